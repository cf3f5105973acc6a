//! Tiny HTTP/1.1 servers on loopback: each reads a request head and gives one scripted answer,
//! and counts the connections it accepted (a canary's count must stay 0).

use flowdm_actions::outbound::{
    Lookup, LookupFuture, OutboundClient, OutboundConfig, OutboundError, OutboundRequest,
    OutboundResponse, Policy,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a server answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with the request head it received as body.
    Echo,
    /// 302 to this location.
    Redirect(String),
    /// 200 with this many bytes; with a `Content-Length` or delimited by closing.
    Big { bytes: usize, length: bool },
    /// Reads the request and never answers.
    Silent,
}

pub struct Stub {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Connections accepted so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://{ip}:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        match self.addr {
            SocketAddr::V4(a) => format!("http://{}:{}{path}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("http://[{}]:{}{path}", a.ip(), a.port()),
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

async fn answer(mut stream: TcpStream, answer: Answer) {
    let head = read_head(&mut stream).await;
    let reply = match answer {
        Answer::Echo => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                head.len()
            )
            .into_bytes();
            r.extend_from_slice(&head);
            r
        }
        Answer::Redirect(to) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        Answer::Big { bytes, length } => {
            let mut r = if length {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n")
            } else {
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
            }
            .into_bytes();
            r.resize(r.len() + bytes, b'x');
            r
        }
        Answer::Silent => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
    };
    let _ = stream.write_all(&reply).await;
    let _ = stream.shutdown().await;
}

/// A server on `ip:port` (port 0: any).
pub async fn serve(ip: IpAddr, port: u16, reply: Answer) -> std::io::Result<Stub> {
    let listener = TcpListener::bind(SocketAddr::new(ip, port)).await?;
    let addr = listener.local_addr()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(stream, reply.clone()));
        }
    });
    Ok(Stub { addr, hits, task })
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A server on `a` and a canary on `b`, on the same port (for names and redirects that
/// change only the address).
pub async fn pair(a: &str, reply: Answer, b: &str) -> (Stub, Stub) {
    for _ in 0..50 {
        let first = serve(ip(a), 0, reply.clone()).await.unwrap();
        if let Ok(canary) = serve(ip(b), first.port(), Answer::Echo).await {
            return (first, canary);
        }
    }
    panic!("no port free on both {a} and {b}");
}

/// A client with the allow-list `allow` and a short timeout.
pub fn client(allow: &str) -> OutboundClient {
    OutboundClient::new(config(allow)).unwrap()
}

pub fn config(allow: &str) -> OutboundConfig {
    OutboundConfig {
        policy: Policy::parse(allow).unwrap(),
        timeout: Duration::from_secs(5),
        ..OutboundConfig::default()
    }
}

/// Sends within a hard bound of 10 s.
pub async fn send(
    client: &OutboundClient,
    request: OutboundRequest,
) -> Result<OutboundResponse, OutboundError> {
    tokio::time::timeout(Duration::from_secs(10), client.send(request))
        .await
        .expect("the client did not finish within 10 s")
}

/// A resolver the test scripts: the first lookup of any name answers `first`, every later
/// one `later`; it records the names it was asked.
pub struct Scripted {
    pub first: IpAddr,
    pub later: IpAddr,
    pub asked: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn new(first: &str, later: &str) -> Arc<Scripted> {
        Arc::new(Scripted {
            first: ip(first),
            later: ip(later),
            asked: Mutex::new(Vec::new()),
        })
    }

    pub fn lookups(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

impl Lookup for Scripted {
    fn lookup(&self, host: &str) -> LookupFuture {
        let mut asked = self.asked.lock().unwrap();
        let answer = if asked.is_empty() {
            self.first
        } else {
            self.later
        };
        asked.push(host.to_string());
        Box::pin(async move { Ok(vec![answer]) })
    }
}
