//! The kubelet's side of `exec` over SPDY/3.1, for the stand-in kubelet of kubelet.rs. Since
//! Kubernetes 1.30 (feature gate TranslateStreamCloseWebsocketRequests) the apiserver no longer
//! passes a client's `v5.channel.k8s.io` WebSocket through to the kubelet: it answers the
//! WebSocket itself and execs on the kubelet the way `kubectl` used to, over SPDY/3.1.
//!
//! The exchange, as the apiserver makes it (k8s.io/streaming's SPDY round tripper, client-go's
//! remotecommand, github.com/moby/spdystream), and what this side answers:
//! 1. `POST /exec/...` with `Connection: Upgrade`, `Upgrade: SPDY/3.1` and one
//!    `X-Stream-Protocol-Version` line per protocol it speaks, v5 down to v1. We answer
//!    `101 Switching Protocols` naming `v4.channel.k8s.io`, as a real kubelet does (it speaks no
//!    v5 over SPDY; the two differ only over WebSocket); SPDY frames follow on the connection.
//! 2. The client opens its streams one at a time, each a SYN_STREAM that waits for our SYN_REPLY:
//!    `streamtype: error` first, then stdin, stdout, stderr and resize as the query asks.
//! 3. We write stdout and stderr as DATA frames and half-close each (FIN), then the final Status
//!    JSON on the error stream (what channel 3 carries over WebSocket), then GOAWAY.
//! 4. The client resets its halves of the streams (RST_STREAM) and closes the connection.
//!
//! Meanwhile it PINGs every 5 s, and we echo each PING.
//!
//! Frames (SPDY/3): a control frame is bit 1, version (15 bits), type (16), flags (8), length
//! (24), payload; a data frame is bit 0, stream id (31 bits), flags (8), length (24), payload.
//! Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are one zlib stream per direction for the whole
//! connection, primed with the SPDY/3 dictionary and sync-flushed at the end of every block.
//!
//! Deliberately small: no flow control (spdystream ignores WINDOW_UPDATE too), stdin read and
//! dropped, no streams or PINGs of our own. Knows nothing of commands or answers.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::sync::{Mutex, mpsc};

/// The one protocol this side speaks.
const PROTOCOL: &str = "v4.channel.k8s.io";

const VERSION: u16 = 3;
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const FLAG_FIN: u8 = 0x01;
/// RST_STREAM's status codes, from 1.
const RESET_STATUSES: &[&str] = &[
    "PROTOCOL_ERROR",
    "INVALID_STREAM",
    "REFUSED_STREAM",
    "UNSUPPORTED_VERSION",
    "CANCEL",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "STREAM_IN_USE",
    "STREAM_ALREADY_CLOSED",
    "INVALID_CREDENTIALS",
    "FRAME_TOO_LARGE",
];

/// How long the client has to open its streams: the kubelet's default stream creation timeout.
const STREAMS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long, after our GOAWAY, the client has to close the connection before we do.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Payload per DATA frame (the format allows 16 MiB; small frames keep the peer's reads small).
const DATA_CHUNK: usize = 16 * 1024;

/// The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1): these words, each
/// after its length as a 32-bit big-endian number, then `DICTIONARY_TAIL` as it is.
const DICTIONARY_WORDS: &[&str] = &[
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
];
const DICTIONARY_TAIL: &str = concat!(
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request",
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented",
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,",
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=",
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
);
/// The dictionary's Adler-32, which zlib streams name it by: a check on the text above.
const DICTIONARY_ID: u32 = 0xe3c6_a7c2;

fn dictionary() -> &'static [u8] {
    static DICTIONARY: OnceLock<Vec<u8>> = OnceLock::new();
    DICTIONARY.get_or_init(|| {
        let mut bytes = Vec::new();
        for word in DICTIONARY_WORDS {
            bytes.extend((word.len() as u32).to_be_bytes());
            bytes.extend(word.as_bytes());
        }
        bytes.extend(DICTIONARY_TAIL.as_bytes());
        bytes
    })
}

/// The streams a kubelet waits for before it runs the command, from the request's query flags
/// (`output`, `error`, `input`, `tty`, each true as Go's ParseBool reads it).
pub(super) fn expected_streams(flag: impl Fn(&str) -> bool) -> Vec<&'static str> {
    let tty = flag("tty");
    let mut streams = vec!["error"];
    for (wanted, stream) in [(flag("input"), "stdin"), (flag("output"), "stdout"), (flag("error") && !tty, "stderr")] {
        if wanted {
            streams.push(stream);
        }
    }
    if tty {
        streams.push("resize");
    }
    streams
}

/// An exec whose client has opened every stream it asked for: ready to be answered.
pub(super) struct ExecStreams<S> {
    writer: Arc<Mutex<FrameWriter<WriteHalf<S>>>>,
    /// Stream ids by `streamtype`.
    opened: Vec<(String, u32)>,
    events: mpsc::UnboundedReceiver<Event>,
    reader: tokio::task::JoinHandle<()>,
}

/// What the connection's reader saw, for the task answering the exec.
enum Event {
    Opened {
        kind: String,
        stream: u32,
    },
    Reset {
        stream: u32,
        status: u32,
    },
    GoAway,
    /// The connection ended (or broke, or carried something that is not SPDY/3).
    Closed(String),
}

/// Answers the upgrade of a request whose head (up to its blank line) has been read from
/// `stream`: 101 and then SPDY, when the client speaks v4 (403 otherwise, as a kubelet does),
/// and waits until the client has opened the `expected` streams.
pub(super) async fn accept<S>(mut stream: S, offered: &[&str], expected: &[&str]) -> Result<ExecStreams<S>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if !offered.contains(&PROTOCOL) {
        let body = format!("unable to upgrade: the stand-in kubelet speaks {PROTOCOL}, not {offered:?}\n");
        let refusal = format!(
            "HTTP/1.1 403 Forbidden\r\nX-Accepted-Stream-Protocol-Versions: {PROTOCOL}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(refusal.as_bytes()).await;
        return Err(body);
    }
    let switch = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: {PROTOCOL}\r\n\r\n"
    );
    stream.write_all(switch.as_bytes()).await.map_err(|e| format!("answer the upgrade: {e}"))?;
    stream.flush().await.map_err(|e| format!("answer the upgrade: {e}"))?;

    let (read, write) = tokio::io::split(stream);
    let writer = Arc::new(Mutex::new(FrameWriter::new(write)));
    let (sender, events) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_frames(FrameReader::new(read), Arc::clone(&writer), sender));
    let mut exec = ExecStreams { writer, opened: Vec::new(), events, reader };
    let opening = async {
        while !expected.iter().all(|kind| exec.stream(kind).is_some()) {
            match exec.events.recv().await {
                Some(Event::Opened { kind, stream }) => exec.opened.push((kind, stream)),
                Some(other) => return Err(format!("the client gave up while opening streams: {}", other.describe())),
                None => return Err("the connection ended while the client opened streams".to_owned()),
            }
        }
        Ok(())
    };
    match tokio::time::timeout(STREAMS_TIMEOUT, opening).await {
        Ok(Ok(())) => Ok(exec),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("the client did not open {expected:?} within {STREAMS_TIMEOUT:?}")),
    }
}

impl<S: AsyncRead + AsyncWrite> ExecStreams<S> {
    fn stream(&self, kind: &str) -> Option<u32> {
        self.opened.iter().find(|(k, _)| k == kind).map(|(_, id)| *id)
    }

    /// Waits until the client gives up on the exec (resets a stream, sends GOAWAY or closes the
    /// connection) and says how it did. Never returns while the client waits for an answer.
    pub(super) async fn abandoned(&mut self) -> String {
        loop {
            match self.events.recv().await {
                Some(Event::Opened { .. }) => continue,
                Some(event) => return event.describe(),
                None => return "the connection ended".to_owned(),
            }
        }
    }

    /// Sends `stdout` and `stderr` on their streams (those the client opened) and `status` on the
    /// error stream, half-closing each, then GOAWAY; waits (a while) for the client to close.
    pub(super) async fn answer(mut self, stdout: &[u8], stderr: &[u8], status: &[u8]) -> io::Result<()> {
        let streams =
            [(self.stream("stdout"), stdout), (self.stream("stderr"), stderr), (self.stream("error"), status)];
        let last_stream = self.opened.iter().map(|(_, id)| *id).max().unwrap_or(0);
        {
            let mut writer = self.writer.lock().await;
            for (stream, body) in streams {
                if let Some(stream) = stream {
                    writer.data(stream, body).await?;
                }
            }
            writer.go_away(last_stream).await?;
        }
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            while let Some(event) = self.events.recv().await {
                if let Event::Closed(_) = event {
                    break;
                }
            }
        })
        .await;
        Ok(())
    }
}

impl<S> Drop for ExecStreams<S> {
    fn drop(&mut self) {
        // The reader holds half the connection: stop it, and the connection closes.
        self.reader.abort();
    }
}

impl Event {
    fn describe(&self) -> String {
        match self {
            Event::Opened { kind, stream } => format!("opened stream {stream} ({kind})"),
            Event::Reset { stream, status } => {
                let name = RESET_STATUSES.get((*status as usize).wrapping_sub(1)).copied().unwrap_or("unknown status");
                format!("RST_STREAM on stream {stream} ({name})")
            }
            Event::GoAway => "GOAWAY".to_owned(),
            Event::Closed(why) => why.clone(),
        }
    }
}

/// The connection's reader: replies to each new stream and echoes PINGs at once (the client
/// waits for both), and tells the exec's task what else happened, until the connection ends.
async fn read_frames<R, W>(
    mut reader: FrameReader<R>,
    writer: Arc<Mutex<FrameWriter<W>>>,
    events: mpsc::UnboundedSender<Event>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let event = match reader.next().await {
            Ok(Frame::SynStream { stream, headers }) => match writer.lock().await.syn_reply(stream).await {
                Ok(()) => {
                    let kind = headers.into_iter().find(|(name, _)| name == "streamtype").map(|(_, v)| v);
                    Event::Opened { kind: kind.unwrap_or_default(), stream }
                }
                Err(e) => Event::Closed(format!("reply to stream {stream}: {e}")),
            },
            Ok(Frame::Ping { id }) => match writer.lock().await.ping(id).await {
                Ok(()) => continue,
                Err(e) => Event::Closed(format!("echo PING {id}: {e}")),
            },
            Ok(Frame::RstStream { stream, status }) => Event::Reset { stream, status },
            Ok(Frame::GoAway) => Event::GoAway,
            Ok(Frame::Other) => continue,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Event::Closed("the connection closed".to_owned()),
            Err(e) => Event::Closed(format!("read a frame: {e}")),
        };
        let closed = matches!(event, Event::Closed(_));
        if events.send(event).is_err() || closed {
            return;
        }
    }
}

/// One frame as far as the kubelet's side cares.
enum Frame {
    SynStream {
        stream: u32,
        headers: Vec<(String, String)>,
    },
    RstStream {
        stream: u32,
        status: u32,
    },
    Ping {
        id: u32,
    },
    GoAway,
    /// DATA (stdin, which nothing here reads), SETTINGS, WINDOW_UPDATE, HEADERS...
    Other,
}

struct FrameReader<R> {
    reader: R,
    /// The client's header blocks, one zlib stream across the connection.
    inflate: Decompress,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    fn new(reader: R) -> Self {
        Self { reader, inflate: Decompress::new(true) }
    }

    async fn next(&mut self) -> io::Result<Frame> {
        let mut head = [0u8; 8];
        self.reader.read_exact(&mut head).await?;
        let first = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let length = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
        let mut payload = vec![0u8; length];
        self.reader.read_exact(&mut payload).await?;
        if first & 0x8000_0000 == 0 {
            return Ok(Frame::Other);
        }
        let version = (first >> 16) as u16 & 0x7fff;
        if version != VERSION {
            return Err(invalid(format!("SPDY version {version}, not {VERSION}")));
        }
        let word = |at: usize| -> io::Result<u32> {
            let bytes = payload.get(at..at + 4).ok_or_else(|| invalid("a control frame too short for its type"))?;
            Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        };
        match first as u16 {
            SYN_STREAM => {
                let stream = word(0)? & 0x7fff_ffff;
                // Stream id, associated stream id, priority and slot come before the headers.
                let headers = self.header_block(payload.get(10..).unwrap_or_default())?;
                Ok(Frame::SynStream { stream, headers })
            }
            // Their header blocks are read all the same: they advance the zlib stream.
            SYN_REPLY | HEADERS => {
                self.header_block(payload.get(4..).unwrap_or_default())?;
                Ok(Frame::Other)
            }
            RST_STREAM => Ok(Frame::RstStream { stream: word(0)? & 0x7fff_ffff, status: word(4)? }),
            PING => Ok(Frame::Ping { id: word(0)? }),
            GOAWAY => Ok(Frame::GoAway),
            _ => Ok(Frame::Other),
        }
    }

    /// A header block: a count, then each name and value after its length (32-bit big-endian
    /// numbers); several values of one name are joined by NUL, which nothing here needs to split.
    fn header_block(&mut self, compressed: &[u8]) -> io::Result<Vec<(String, String)>> {
        let block = self.inflate(compressed)?;
        let mut rest = block.as_slice();
        let count = take_number(&mut rest)?;
        let mut headers = Vec::new();
        for _ in 0..count {
            let length = take_number(&mut rest)?;
            let name = String::from_utf8_lossy(take(&mut rest, length)?).into_owned();
            let length = take_number(&mut rest)?;
            headers.push((name, String::from_utf8_lossy(take(&mut rest, length)?).into_owned()));
        }
        Ok(headers)
    }

    fn inflate(&mut self, mut input: &[u8]) -> io::Result<Vec<u8>> {
        let mut output = Vec::with_capacity(4 * input.len() + 64);
        loop {
            let (read, written) = (self.inflate.total_in(), self.inflate.total_out());
            match self.inflate.decompress_vec(input, &mut output, FlushDecompress::Sync) {
                Ok(Status::StreamEnd) => return Err(invalid("the header stream ended")),
                Ok(_) => {}
                // The first block names the dictionary it was compressed with.
                Err(e) if e.needs_dictionary() == Some(DICTIONARY_ID) => {
                    self.inflate.set_dictionary(dictionary()).map_err(invalid)?;
                }
                Err(e) => return Err(invalid(e)),
            }
            let consumed = (self.inflate.total_in() - read) as usize;
            input = &input[consumed..];
            if input.is_empty() && output.len() < output.capacity() {
                return Ok(output);
            }
            if consumed == 0 && self.inflate.total_out() == written && output.len() < output.capacity() {
                return Err(invalid("a header block that does not decompress"));
            }
            output.reserve(256);
        }
    }
}

struct FrameWriter<W> {
    writer: W,
    /// Our header blocks, one zlib stream across the connection.
    deflate: Compress,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    fn new(writer: W) -> Self {
        let mut deflate = Compress::new(Compression::best(), true);
        let id = deflate.set_dictionary(dictionary()).expect("a fresh compressor takes a dictionary");
        assert_eq!(id, DICTIONARY_ID, "the SPDY/3 header dictionary is spelled wrong");
        Self { writer, deflate }
    }

    async fn control(&mut self, kind: u16, payload: &[u8]) -> io::Result<()> {
        let mut frame = Vec::with_capacity(8 + payload.len());
        frame.extend((0x8000 | VERSION).to_be_bytes());
        frame.extend(kind.to_be_bytes());
        frame.extend((payload.len() as u32).to_be_bytes());
        frame.extend(payload);
        self.writer.write_all(&frame).await?;
        self.writer.flush().await
    }

    /// Accepts stream `stream`, with no headers (as spdystream's servers reply).
    async fn syn_reply(&mut self, stream: u32) -> io::Result<()> {
        let mut payload = stream.to_be_bytes().to_vec();
        payload.extend(self.deflate(&0u32.to_be_bytes())?);
        self.control(SYN_REPLY, &payload).await
    }

    async fn ping(&mut self, id: u32) -> io::Result<()> {
        self.control(PING, &id.to_be_bytes()).await
    }

    /// No new streams from here on; `last_stream` is the last of the client's we took.
    async fn go_away(&mut self, last_stream: u32) -> io::Result<()> {
        let mut payload = last_stream.to_be_bytes().to_vec();
        payload.extend(0u32.to_be_bytes());
        self.control(GOAWAY, &payload).await
    }

    /// Sends `body` on `stream` and half-closes it: FIN on the last frame (an empty one for an
    /// empty body).
    async fn data(&mut self, stream: u32, body: &[u8]) -> io::Result<()> {
        let mut chunks: Vec<&[u8]> = body.chunks(DATA_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let flags = if i == last { FLAG_FIN } else { 0 };
            let mut frame = Vec::with_capacity(8 + chunk.len());
            frame.extend(stream.to_be_bytes());
            frame.extend((u32::from(flags) << 24 | chunk.len() as u32).to_be_bytes());
            frame.extend(chunk);
            self.writer.write_all(&frame).await?;
        }
        self.writer.flush().await
    }

    fn deflate(&mut self, mut input: &[u8]) -> io::Result<Vec<u8>> {
        let mut output = Vec::with_capacity(input.len() + 64);
        loop {
            let read = self.deflate.total_in();
            self.deflate.compress_vec(input, &mut output, FlushCompress::Sync).map_err(invalid)?;
            input = &input[(self.deflate.total_in() - read) as usize..];
            if input.is_empty() && output.len() < output.capacity() {
                return Ok(output);
            }
            output.reserve(64);
        }
    }
}

/// The first `n` bytes of `rest`, which moves past them.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
    if rest.len() < n {
        return Err(invalid("a header block shorter than it says"));
    }
    let (taken, after) = rest.split_at(n);
    *rest = after;
    Ok(taken)
}

fn take_number(rest: &mut &[u8]) -> io::Result<usize> {
    let bytes = take(rest, 4)?;
    Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
}

fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}
