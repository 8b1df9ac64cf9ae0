//! A webhook receiver for the tests: a small HTTP/1.1 server on a loopback port (std
//! `TcpListener`, one thread) that records every request (method, path, headers, body) and
//! answers with the statuses a test queues, 200 once the queue is empty. It can be stopped and
//! started again on the same port, to play a target that is down for a while.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The body, exactly as received.
    pub body: String,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    plan: Mutex<VecDeque<u16>>,
    delay: Mutex<Duration>,
}

/// The receiver; stopped on drop.
pub struct Receiver {
    shared: Arc<Shared>,
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free loopback port.
    pub fn start() -> Receiver {
        Receiver::on_port(0, Arc::default())
    }

    fn on_port(port: u16, shared: Arc<Shared>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("binding the receiver");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, state) = (stop.clone(), shared.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &state);
                }
            }
        });
        Receiver { shared, port, stop, thread: Some(thread) }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Queues statuses for the next requests (200 after them).
    pub fn answer(&self, statuses: &[u16]) {
        self.shared.plan.lock().unwrap().extend(statuses);
    }

    /// Holds every answer for this long (a slow target: deliveries stay in flight).
    pub fn delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `timeout`), and returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(Instant::now() < deadline, "expected {n} webhook requests, got {}: {received:#?}", received.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops listening (connections are refused from now on); [`Receiver::restart`] listens again
    /// on the same port, keeping what was received.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        *self = Receiver::on_port(self.port, self.shared.clone());
    }

    /// A receiver that is not listening yet, on a port that was free.
    pub fn stopped() -> Receiver {
        let mut receiver = Receiver::start();
        receiver.stop();
        receiver
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let answered = shared.plan.lock().unwrap().pop_front().unwrap_or(200);
    let received = Received { method, path, headers, body: String::from_utf8_lossy(&body).into_owned(), answered };
    shared.received.lock().unwrap().push(received);
    let delay = *shared.delay.lock().unwrap();
    std::thread::sleep(delay);
    let reply = format!("HTTP/1.1 {answered} Planned\r\nContent-Length: 7\r\nConnection: close\r\n\r\nplanned");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.flush();
}
