//! The PHP binding: `Webman\Push\{Server, Api, PushException}`.
//!
//! Thin on purpose: it converts zvals to Rust values on the PHP thread and calls the layers
//! below. No zval ever reaches a runtime thread, and every PHP-visible failure is a
//! `PushException` (ext-php-rs turns a stray panic into a PHP `\Error` rather than a crash).

mod api;
mod api_values;
mod client;
mod server;

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use ext_php_rs::zend::{ce, ClassEntry};
use std::sync::atomic::{AtomicPtr, Ordering};

pub use api::Api;
pub use server::Server;

/// `Webman\Push\PushException extends \Exception`, thrown for invalid arguments and for servers
/// that cannot start. Registered by hand rather than as a `#[php_class]` so that it keeps
/// Exception's own constructor: applications `throw new PushException($message, $code)` too.
static PUSH_EXCEPTION: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

unsafe extern "C" fn register_push_exception(_type: i32, _module_number: i32) -> i32 {
    let registered = ClassBuilder::new("Webman\\Push\\PushException")
        .extends((ce::exception, "\\Exception"))
        .registration(|class, _| PUSH_EXCEPTION.store(class, Ordering::Release))
        .register();
    // 0 is SUCCESS for a module startup function.
    i32::from(registered.is_err())
}

pub(crate) fn push_error(message: impl Into<String>) -> PhpException {
    // SAFETY: set once at module startup to a class entry the engine keeps for the process.
    match unsafe { PUSH_EXCEPTION.load(Ordering::Acquire).as_ref() } {
        Some(class) => PhpException::new(message.into(), 0, class),
        None => PhpException::from_message(message.into()),
    }
}

/// `JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE`, the flags webman/push encodes event data with.
pub(crate) const JSON_UNESCAPED: i64 = 64 | 256;

/// PHP's own `json_encode`, so objects, `JsonSerializable` and floats encode exactly as in PHP.
pub(crate) fn json_encode(value: &Zval, flags: i64) -> PhpResult<String> {
    call_php("json_encode", vec![value, &flags])?
        .string()
        .ok_or_else(|| push_error("json_encode failed: the value cannot be encoded as JSON"))
}

/// Calls a PHP function by name on the PHP thread.
pub(crate) fn call_php(name: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> PhpResult<Zval> {
    let function = ZendCallable::try_from_name(name).map_err(|e| push_error(format!("{name}: {e}")))?;
    function
        .try_call(args)
        .map_err(|e| push_error(format!("{name} failed: {e}")))
}

pub(crate) fn string_zval(s: &str) -> PhpResult<Zval> {
    let mut z = Zval::new();
    z.set_string(s, false).map_err(|e| push_error(e.to_string()))?;
    Ok(z)
}

/// A PHP array of string keys, built on the PHP thread, as a zval.
pub(crate) fn php_array(entries: Vec<(&str, Zval)>) -> PhpResult<Zval> {
    let mut table = ZendHashTable::new();
    for (k, v) in entries {
        table.insert(k, v).map_err(|e| push_error(e.to_string()))?;
    }
    let mut z = Zval::new();
    z.set_hashtable(table);
    Ok(z)
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("webman_push")
        .startup_function(register_push_exception)
        .class::<Api>()
        .class::<Server>()
}
