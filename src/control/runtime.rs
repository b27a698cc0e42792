//! The control plane's own runtime: one thread that serves HTTP and nothing else.
//!
//! The server's runtime workers run client commands, and a command may hold one of them for
//! long (`DEBUG SLEEP`, a slow `KEYS`, a big pipeline), with the engine lock: other tasks
//! on those workers then wait, some parked on that lock. Served from there, `/healthz`
//! would not answer while the server is busy, and an orchestrator would restart a node
//! that is merely working. On a thread of its own the control plane answers whatever the
//! workers do; its handlers never park it on the engine (see
//! [`crate::engine::published`]), and what they change runs on the server's runtime
//! (see [`super::repl_handle::ReplHandle::on_server`]).

use parking_lot::Mutex;
use tokio::runtime::Handle;

static RUNTIME: Mutex<Option<Handle>> = Mutex::new(None);

/// The control plane's runtime, started on first use. It runs for the life of the process.
pub fn handle() -> std::io::Result<Handle> {
    let mut runtime = RUNTIME.lock();
    if let Some(handle) = runtime.as_ref() {
        return Ok(handle.clone());
    }
    let built = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = built.handle().clone();
    std::thread::Builder::new()
        .name("replikv-http".into())
        .spawn(move || built.block_on(std::future::pending::<()>()))?;
    *runtime = Some(handle.clone());
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_the_control_thread_while_the_callers_thread_is_parked() {
        let handle = handle().expect("runtime");
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = tx.send(name);
        });
        let name = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the task ran");
        assert_eq!(name.as_deref(), Some("replikv-http"));
        assert!(Handle::try_current().is_err());
    }
}
