//! The `/metrics` page: every figure is read from where the server already keeps it (the hub's
//! per-app counters and channels, the webhook receivers, the cluster link, the API's request
//! table) when a scrape asks, and encoded by `prometheus-client` in the Prometheus text format
//! 0.0.4. Nothing here runs on a message path.

use super::api_requests::ApiRequests;
use crate::hub::{AppHub, ChannelType, Hub, MessageKind, Source};
use crate::server::cluster::RedisCluster;
use crate::server::webhook::WebhookStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt::Error;
use std::sync::Arc;

/// Close code of a connection whose send queue overflowed (`max_send_queue`).
const CLOSE_SEND_QUEUE: u16 = 4100;

/// What a scrape reads.
pub(crate) struct Sources {
    pub hub: Arc<Hub>,
    pub webhooks: Arc<WebhookStats>,
    pub cluster: Option<Arc<RedisCluster>>,
    pub api: Arc<ApiRequests>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sources")
    }
}

/// A registry whose one collector reads `sources` on every scrape.
pub(crate) fn registry(sources: Arc<Sources>) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ScrapeCollector(sources)));
    registry
}

/// The page, in the Prometheus text format 0.0.4.
pub(crate) fn render(registry: &Registry) -> String {
    let mut page = String::with_capacity(8 * 1024);
    // Writing into a String cannot fail; a collector error would only cut the page short.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut page, registry);
    page
}

#[derive(Debug)]
struct ScrapeCollector(Arc<Sources>);

/// One metric family: its descriptor, then a sample per label set.
fn family<L: EncodeLabelSet, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: impl IntoIterator<Item = (L, M)>,
) -> Result<(), Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counter(n: u64) -> ConstCounter<u64> {
    ConstCounter::new(n)
}

fn gauge(n: usize) -> ConstGauge<i64> {
    ConstGauge::new(n as i64)
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        let s = &self.0;
        let mut sorted: Vec<&Arc<AppHub>> = s.hub.apps().collect();
        sorted.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        let apps = &sorted;
        let census: Vec<_> = apps.iter().map(|a| a.census()).collect();
        let census = &census;
        let app_id = |i: usize| [("app_id", apps[i].config.id.as_str())];
        let per_app = |f: fn(&AppHub) -> u64| (0..apps.len()).map(move |i| (app_id(i), counter(f(apps[i]))));

        family(
            &mut e,
            "webman_push_connections",
            "WebSocket connections open now.",
            MetricType::Gauge,
            (0..apps.len()).map(|i| (app_id(i), gauge(census[i].connections))),
        )?;
        family(
            &mut e,
            "webman_push_connections_opened",
            "WebSocket connections admitted to the app.",
            MetricType::Counter,
            per_app(|a| a.counters.opened()),
        )?;
        let closed: Vec<_> = apps.iter().map(|a| a.counters.closed()).collect();
        let closed = &closed;
        family(
            &mut e,
            "webman_push_connections_closed",
            "WebSocket connections ended, by close code (1006: dropped without one).",
            MetricType::Counter,
            closed.iter().enumerate().flat_map(|(i, codes)| {
                codes.iter().map(move |(code, n)| {
                    (
                        [("app_id", apps[i].config.id.clone()), ("code", code.to_string())],
                        counter(*n),
                    )
                })
            }),
        )?;
        family(
            &mut e,
            "webman_push_channels",
            "Occupied channels on this node, by type.",
            MetricType::Gauge,
            (0..apps.len()).flat_map(|i| {
                let census = &census[i];
                ChannelType::ALL.iter().map(move |t| {
                    (
                        [("app_id", apps[i].config.id.as_str()), ("type", t.label())],
                        gauge(census.channels[*t as usize]),
                    )
                })
            }),
        )?;
        family(
            &mut e,
            "webman_push_subscriptions",
            "Channel subscriptions on this node.",
            MetricType::Gauge,
            (0..apps.len()).map(|i| (app_id(i), gauge(census[i].subscriptions))),
        )?;
        family(
            &mut e,
            "webman_push_presence_members",
            "Presence channel members on this node (each user once per channel).",
            MetricType::Gauge,
            (0..apps.len()).map(|i| (app_id(i), gauge(census[i].presence_members))),
        )?;
        family(
            &mut e,
            "webman_push_messages_received",
            "Messages received from clients, by kind.",
            MetricType::Counter,
            (0..apps.len()).flat_map(|i| {
                MessageKind::ALL.iter().map(move |k| {
                    (
                        [("app_id", apps[i].config.id.as_str()), ("kind", k.label())],
                        counter(apps[i].counters.received(*k)),
                    )
                })
            }),
        )?;
        family(&mut e, "webman_push_events_published", "Events published, by source (http: the HTTP API or Api; client: client events; cluster: other nodes).",
            MetricType::Counter,
            (0..apps.len()).flat_map(|i| Source::ALL.iter().map(move |src| {
                ([("app_id", apps[i].config.id.as_str()), ("source", src.label())], counter(apps[i].counters.published_from(*src)))
            })))?;
        family(
            &mut e,
            "webman_push_deliveries",
            "Event frames queued to subscribers.",
            MetricType::Counter,
            per_app(|a| a.counters.deliveries().0),
        )?;
        family(
            &mut e,
            "webman_push_delivered_bytes",
            "Bytes of event frames queued to subscribers (the JSON text, without WebSocket framing).",
            MetricType::Counter,
            per_app(|a| a.counters.deliveries().1),
        )?;
        family(
            &mut e,
            "webman_push_send_queue_closes",
            "Connections closed with 4100 because their send queue passed max_send_queue.",
            MetricType::Counter,
            (0..apps.len()).map(|i| {
                let n = closed[i]
                    .iter()
                    .find(|(c, _)| *c == CLOSE_SEND_QUEUE)
                    .map_or(0, |(_, n)| *n);
                (app_id(i), counter(n))
            }),
        )?;
        family(
            &mut e,
            "webman_push_rate_limit_hits",
            "Client events refused with 4301 (over client_event_rate).",
            MetricType::Counter,
            per_app(|a| a.counters.rate_limit_hits()),
        )?;
        self.encode_api(&mut e)?;
        self.encode_webhooks(&mut e)?;
        self.encode_cluster(&mut e)
    }
}

impl ScrapeCollector {
    fn encode_api(&self, e: &mut DescriptorEncoder) -> Result<(), Error> {
        let routes = self.0.api.snapshot();
        family(
            e,
            "webman_push_api_requests",
            "HTTP API requests, by route template and status.",
            MetricType::Counter,
            routes.iter().flat_map(|r| {
                r.by_status.iter().map(move |(status, n)| {
                    ([("endpoint", r.route), ("status", status.as_str())], counter(*n))
                })
            }),
        )?;
        let mut metric = e.encode_descriptor(
            "webman_push_api_request_duration_seconds",
            "HTTP API request latency, from the request head to the answer, by route template.",
            None,
            MetricType::Histogram,
        )?;
        for r in routes.iter().filter(|r| r.count > 0) {
            metric
                .encode_family(&[("endpoint", r.route)])?
                .encode_histogram::<NoLabelSet>(r.sum_seconds, r.count, &r.cumulative, None)?;
        }
        Ok(())
    }

    fn encode_webhooks(&self, e: &mut DescriptorEncoder) -> Result<(), Error> {
        let d = self.0.webhooks.destinations();
        let labels = |w: &crate::server::webhook::DestinationStats| {
            [("app_id", w.app_id.clone()), ("destination", w.url.clone())]
        };
        family(
            e,
            "webman_push_webhook_requests",
            "Webhook requests sent (every attempt).",
            MetricType::Counter,
            d.iter().map(|w| (labels(w), counter(w.sent))),
        )?;
        family(
            e,
            "webman_push_webhook_failures",
            "Webhook attempts that failed (no 2xx answer in time).",
            MetricType::Counter,
            d.iter().map(|w| (labels(w), counter(w.failed))),
        )?;
        family(
            e,
            "webman_push_webhook_retries",
            "Failed webhook attempts that were tried again.",
            MetricType::Counter,
            d.iter().map(|w| (labels(w), counter(w.retried))),
        )?;
        family(
            e,
            "webman_push_webhook_dropped",
            "Webhook requests given up on (queue full or receiver down past webhook_retry_for).",
            MetricType::Counter,
            d.iter().map(|w| (labels(w), counter(w.dropped))),
        )?;
        family(
            e,
            "webman_push_webhook_queue_depth",
            "Webhook requests waiting for their receiver.",
            MetricType::Gauge,
            d.iter().map(|w| (labels(w), gauge(w.queued))),
        )
    }

    fn encode_cluster(&self, e: &mut DescriptorEncoder) -> Result<(), Error> {
        let Some(cluster) = &self.0.cluster else {
            return Ok(());
        };
        let none: [(&str, &str); 0] = [];
        family(
            e,
            "webman_push_cluster_peers_alive",
            "Other nodes heard from within cluster_node_timeout.",
            MetricType::Gauge,
            [(none, gauge(cluster.peers_alive()))],
        )?;
        family(
            e,
            "webman_push_cluster_redis_connected",
            "1 while subscribed to the cluster's Redis bus, else 0.",
            MetricType::Gauge,
            [(none, gauge(usize::from(cluster.health.down_for().is_none())))],
        )?;
        let (received, sent) = cluster.health.messages();
        family(
            e,
            "webman_push_cluster_messages",
            "Cluster bus messages, by direction (in: from other nodes; out: published to Redis).",
            MetricType::Counter,
            [
                ([("direction", "in")], counter(received)),
                ([("direction", "out")], counter(sent)),
            ],
        )
    }
}
