//! Real redis-server processes for the scale-out tests: plain, TLS, ACL, replica, sentinel and
//! cluster-enabled ones, each on a free loopback port, waited for by polling and killed (by PID)
//! when dropped, so a failing test never leaves one behind. Keys and certificates are generated
//! per test in a scratch directory that is removed afterwards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One redis-server (or sentinel); killed on drop.
pub struct RedisProcess {
    child: Option<Child>,
    pub port: u16,
}

impl RedisProcess {
    /// Starts `redis-server` with `args` (which must make it listen on `port`) and waits until
    /// the port accepts connections.
    pub fn start(port: u16, args: &[&str]) -> RedisProcess {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        RedisProcess::launch(port, &all)
    }

    fn launch(port: u16, args: &[&str]) -> RedisProcess {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (tests/run installs it)");
        let process = RedisProcess {
            child: Some(child),
            port,
        };
        wait_until(&format!("redis on port {port} accepts connections"), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        process
    }

    /// A sentinel on a free port watching `master_port` as `mymaster` (quorum 2), quick to act:
    /// the master is down after 500 ms of silence.
    pub fn sentinel(dir: &Scratch, master_port: u16) -> RedisProcess {
        let port = free_port();
        let conf = dir.path(&format!("sentinel-{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor mymaster 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds mymaster 500\n\
                 sentinel failover-timeout mymaster 3000\n\
                 sentinel parallel-syncs mymaster 1\n",
                dir.0.display()
            ),
        )
        .unwrap();
        RedisProcess::launch(port, &[&conf, "--sentinel"])
    }

    /// A plain redis-server on a free port with `extra` arguments.
    pub fn plain(extra: &[&str]) -> RedisProcess {
        RedisProcess::plain_on(free_port(), extra)
    }

    /// A plain redis-server on `port` (say, again where a killed one was) with `extra` arguments.
    pub fn plain_on(port: u16, extra: &[&str]) -> RedisProcess {
        let port_text = port.to_string();
        let mut args = vec!["--port", &port_text];
        args.extend_from_slice(extra);
        RedisProcess::start(port, &args)
    }

    /// A TLS-only redis-server on a free port serving `name`'s certificate from `dir` (made by
    /// [`make_ca_and_server_cert`]); clients need not present a certificate.
    pub fn tls(dir: &Scratch, name: &str) -> RedisProcess {
        let port = free_port();
        let (cert, key, ca) = (
            dir.path(&format!("{name}-server.pem")),
            dir.path(&format!("{name}-server.key")),
            dir.path(&format!("{name}-ca.pem")),
        );
        let port_text = port.to_string();
        RedisProcess::start(
            port,
            &[
                "--port",
                "0",
                "--tls-port",
                &port_text,
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca,
                "--tls-auth-clients",
                "no",
            ],
        )
    }

    /// Kills it now (a crash: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis-cli` against this server with `args`; its trimmed output.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli must be installed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Polls `check` every 20 ms for at most 20 s (blocking; for setup outside the runtime's tasks).
pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("never happened: {what}");
}

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "webman-push-{name}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, file: &str) -> String {
        self.0.join(file).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Generates `{name}-ca.pem` (a CA) and `{name}-server.pem`/`-server.key` (signed by it, for
/// 127.0.0.1) in `dir`.
pub fn make_ca_and_server_cert(dir: &Scratch, name: &str) {
    let d = &dir.0;
    let (ca_key, ca, key, csr, cert, ext) = (
        format!("{name}-ca.key"),
        format!("{name}-ca.pem"),
        format!("{name}-server.key"),
        format!("{name}-server.csr"),
        format!("{name}-server.pem"),
        format!("{name}-ext.cnf"),
    );
    let subject = format!("/CN={name} test CA");
    openssl(
        d,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &ca_key, "-out", &ca, "-days", "1",
            "-subj", &subject,
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(d.join(&ext), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "1",
            "-extfile",
            &ext,
        ],
    );
}

/// A Redis Cluster of `masters` cluster-enabled servers (no replicas), created with
/// `redis-cli --cluster create` and waited for until every node reports `cluster_state:ok`.
pub struct RedisClusterSet {
    pub nodes: Vec<RedisProcess>,
    _dir: Scratch,
}

impl RedisClusterSet {
    pub fn start(masters: usize) -> RedisClusterSet {
        RedisClusterSet::with_replicas(masters, 0)
    }

    /// `masters` masters with `replicas` replicas each.
    pub fn with_replicas(masters: usize, replicas: usize) -> RedisClusterSet {
        let dir = Scratch::new("cluster");
        let nodes: Vec<RedisProcess> = (0..masters * (1 + replicas))
            .map(|_| {
                let (port, bus_port) = (free_port(), free_port());
                let conf = dir.path(&format!("nodes-{port}.conf"));
                let (port_text, bus_text) = (port.to_string(), bus_port.to_string());
                let data_dir = dir.path("");
                let args = [
                    "--port",
                    &port_text,
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--cluster-port",
                    &bus_text,
                    "--cluster-node-timeout",
                    "2000",
                    "--dir",
                    &data_dir,
                ];
                RedisProcess::start(port, &args)
            })
            .collect();
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli must be installed");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for n in &nodes {
            wait_until("the cluster is ok on every node", || {
                n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok")
            });
            // A replica that never synced may not take over: wait for every link.
            wait_until("every replica is in sync", || {
                let info = n.cli(&["INFO", "replication"]);
                info.contains("role:master") || info.contains("master_link_status:up")
            });
        }
        RedisClusterSet { nodes, _dir: dir }
    }

    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisProcess::url).collect()
    }
}
