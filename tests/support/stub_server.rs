//! A stand-in server of an external service for tests: an actix application on 127.0.0.1
//! (port 0) on its own thread, stopped when dropped.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, Error, HttpServer};
use std::sync::mpsc;
use std::time::Duration;

/// A running stub server.
pub struct StubServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StubServer {
    /// Serves the application `app` builds, with `workers` workers.
    pub fn start<F, T>(workers: usize, app: F) -> StubServer
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse,
                Error = Error,
                InitError = (),
            > + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(app)
                    .workers(workers)
                    .bind(("127.0.0.1", 0))
                    .expect("bind the stub");
                let port = server.addrs()[0].port();
                let server = server.run();
                tx.send((port, server.handle())).expect("send");
                let _ = server.await;
            })
        });
        let (port, handle) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("stub started");
        StubServer {
            origin: format!("http://127.0.0.1:{port}"),
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
