//! HTTP/1.1 over `std::net` for the requests the benchmark makes itself (wrk makes the load):
//! one-shot requests with `Connection: close` for set-up and sanity checks ([`once`]), and
//! keep-alive connections ([`Connection`]) for the signups and for the refresh driver, which
//! wrk cannot play because each refresh must send the token the previous answer returned.
//! Answers are read by their `Content-Length`, chunk by chunk when chunked, else to the end.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

/// Connect, read and write time limit.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One request on its own connection, closed after the answer: the status and the body text.
pub(super) fn once(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut connection = Connection::open(addr)?;
    connection.exchange(method, path, headers, body, false)
}

/// A keep-alive connection; reopened when the server closed it.
pub(super) struct Connection {
    addr: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// Connects to `addr`.
    pub(super) fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let mut connection = Connection { addr, reader: None };
        connection.connect()?;
        Ok(connection)
    }

    fn connect(&mut self) -> anyhow::Result<()> {
        let stream =
            TcpStream::connect_timeout(&self.addr, TIMEOUT).with_context(|| format!("connecting to {}", self.addr))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        self.reader = Some(BufReader::new(stream));
        Ok(())
    }

    /// One request on this connection, which stays open: the status and the body text. After an
    /// error the connection is dropped and the next request opens a new one.
    pub(super) fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        self.exchange(method, path, headers, body, true)
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&str>,
        keep_alive: bool,
    ) -> anyhow::Result<(u16, String)> {
        let request = request_text(self.addr, method, path, headers, body, keep_alive);
        if self.reader.is_none() {
            self.connect()?;
        }
        let outcome = match self.reader.as_mut() {
            Some(reader) => reader
                .get_mut()
                .write_all(request.as_bytes())
                .map_err(anyhow::Error::from)
                .and_then(|()| read_response(reader)),
            None => Err(anyhow::anyhow!("not connected to {}", self.addr)),
        };
        if !matches!(outcome, Ok((_, _, true))) {
            self.reader = None;
        }
        outcome.map(|(status, body, _)| (status, body))
    }
}

/// The request's bytes: `Content-Length` (and a JSON content type) when there is a body, and
/// `Content-Length: 0` for a `POST` without one.
fn request_text(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    keep_alive: bool,
) -> String {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: {connection}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    match body {
        Some(body) => {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()))
        }
        None if method == "POST" => request.push_str("Content-Length: 0\r\n"),
        None => {}
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    request
}

/// Reads one answer: its status, its body and whether the connection stays open.
fn read_response(reader: &mut impl BufRead) -> anyhow::Result<(u16, String, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        bail!("the server closed the connection without answering");
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))?;
    let (mut length, mut chunked, mut open) = (None, false, !line.starts_with("HTTP/1.0"));
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("the answer ended within its headers");
        }
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = Some(value.parse::<usize>().context("a bad Content-Length")?),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" if value.eq_ignore_ascii_case("close") => open = false,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => open = true,
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        read_chunks(reader, &mut body)?;
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
        open = false;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned(), open))
}

/// A chunked body, up to its last (empty) chunk and the blank line after it.
fn read_chunks(reader: &mut impl BufRead, body: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).with_context(|| format!("a bad chunk size: {line:?}"))?;
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk)?;
        body.extend_from_slice(&chunk);
        line.clear();
        reader.read_line(&mut line)?;
        if size == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (u16, String, bool) {
        read_response(&mut text.as_bytes()).unwrap()
    }

    #[test]
    fn reads_answers_by_length_by_chunks_and_to_the_end() {
        let sized = "HTTP/1.1 200 OK\r\ncontent-length: 7\r\ncontent-type: application/json\r\n\r\n{\"a\":1}NEXT";
        assert_eq!(read(sized), (200, "{\"a\":1}".to_owned(), true));
        let chunked =
            "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(read(chunked), (401, "abcde".to_owned(), true));
        let closed = "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\noops";
        assert_eq!(read(closed), (500, "oops".to_owned(), false));
        assert!(read_response(&mut "".as_bytes()).is_err());
        assert!(read_response(&mut "garbage\r\n\r\n".as_bytes()).is_err());
    }

    #[test]
    fn a_connection_is_kept_then_reopened_once_closed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            // First connection: two answers, the second one closing; second connection: one.
            let mut seen = Vec::new();
            for answers in [
                [
                    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                    "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 1\r\n\r\nb",
                ]
                .as_slice(),
                &["HTTP/1.1 202 Accepted\r\nContent-Length: 1\r\n\r\nc"],
            ] {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                for answer in answers {
                    let mut request = String::new();
                    while !request.ends_with("\r\n\r\n") {
                        reader.read_line(&mut request).unwrap();
                    }
                    seen.push(request.lines().next().unwrap_or_default().to_owned());
                    reader.get_mut().write_all(answer.as_bytes()).unwrap();
                }
            }
            seen
        });
        let mut connection = Connection::open(addr).unwrap();
        assert_eq!(connection.send("GET", "/1", &[], None).unwrap(), (200, "a".to_owned()));
        assert_eq!(connection.send("POST", "/2", &[], None).unwrap(), (201, "b".to_owned()));
        assert_eq!(connection.send("GET", "/3", &[], None).unwrap(), (202, "c".to_owned()));
        assert_eq!(server.join().unwrap(), ["GET /1 HTTP/1.1", "POST /2 HTTP/1.1", "GET /3 HTTP/1.1"]);
    }

    #[test]
    fn requests_say_their_length() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 80));
        let headers = [("x-api-key".to_owned(), "pk".to_owned())];
        let post = request_text(addr, "POST", "/a", &headers, Some("{}"), true);
        assert_eq!(
            post,
            "POST /a HTTP/1.1\r\nHost: 127.0.0.1:80\r\nConnection: keep-alive\r\nx-api-key: pk\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert!(
            request_text(addr, "POST", "/a", &[], None, false)
                .ends_with("Connection: close\r\nContent-Length: 0\r\n\r\n")
        );
        assert!(!request_text(addr, "GET", "/a", &[], None, false).contains("Content-Length"));
    }
}
