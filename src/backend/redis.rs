//! Redis, natively: `kv("redis://host:port/db")` talks to Redis through the `redis`
//! crate on tokio, over one multiplexed connection per store. In Node, get/set/has/del
//! over `redis://` go through `binding::redis_loop` instead (no thread hand-off); this
//! engine then runs the group jobs, and everything for `rediss://` and Bun.
//!
//! Format (CONTRACT §24, shared with polystore over node-redis): the Redis key is the
//! full key (prefix included), the value is the JSON text made by V8, expiry is the
//! Redis TTL — set with `PX`, so milliseconds survive (polystore rounds to seconds).
//!
//! Why this engine stands beside the sync `Backend` trait instead of implementing it:
//! that trait is a blocking call per operation, right for embedded engines answered in
//! ~0.3 µs. A network round trip cannot be answered synchronously on the JS thread, and
//! one async napi crossing per operation costs more than Redis itself. So the JS
//! driver queues every operation issued in the same tick and hands them over as one
//! batch; this engine sends a batch (and every batch that queued up behind it) to
//! Redis as one pipeline and answers each operation in its own slot. Answers go to a
//! [`BatchSink`] and group results to a [`Done`] callback, so this file knows nothing
//! of napi.
//!
//! All stores share one thread running a current-thread tokio runtime ([`runtime`]).
//!
//! Order: jobs go through one channel into one worker task that owns the connection,
//! so operations reach Redis in the order JS issued them (`set` then `get` without an
//! `await` in between reads the new value): the worker queues each round on the one
//! connection before it takes the next job, and Redis runs one connection's commands
//! in order. Rounds do not wait for each other's answers, so several can be in flight.
//!
//! Failure: a dropped connection is reopened by the next job; while Redis is
//! unreachable every job fails within [`CONNECT_TIMEOUT`] (at once when the previous
//! attempt failed less than [`RETRY_AFTER`] ago) and no reply waits longer than
//! [`RESPONSE_TIMEOUT`]. Nothing is retried behind the caller's back: a write whose
//! fate is unknown is reported as failed, never silently replayed.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, Value};
use tokio::sync::mpsc;

/// Longest wait for a TCP (and TLS) connection to be established.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for Redis to answer a pipeline or a command.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed connection attempt, jobs fail at once (without a new attempt) for this long,
/// so a client hammering a dead server gets quick errors instead of a queue of connect calls.
pub const RETRY_AFTER: Duration = Duration::from_millis(100);
/// Keys asked per `SCAN` step; also the most keys per `UNLINK` and `MGET` in group jobs.
const SCAN_COUNT: usize = 1000;

/// Where and how to connect, parsed from a `redis://` or `rediss://` URL:
/// `redis://[[user]:password@]host[:port][/db]`.
pub struct RedisConfig {
    /// Host, port, database, credentials, TLS, as the `redis` crate reads the URL.
    info: redis::ConnectionInfo,
}

impl RedisConfig {
    /// Parses the URL. Errors name what is wrong without repeating the password.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let starts_with = |scheme: &str| {
            url.as_bytes()
                .get(..scheme.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(scheme.as_bytes()))
        };
        if !(starts_with("redis://") || starts_with("rediss://")) {
            return Err("a Redis URL starts with redis:// or rediss://".into());
        }
        let info = url.into_connection_info().map_err(|e| {
            let reason = e.detail().unwrap_or("it cannot be parsed").to_string();
            format!("invalid Redis URL {}: {reason}", hide_password(url))
        })?;
        // Small requests answered at once: without TCP_NODELAY, Nagle's algorithm holds
        // back a write while an earlier one is unacknowledged (node-redis turns it off too).
        let info = info.set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        Ok(Self { info })
    }

    /// Host and port of a plain TCP (`redis://`) store; `None` for TLS.
    pub fn tcp_address(&self) -> Option<(&str, u16)> {
        match self.info.addr() {
            ConnectionAddr::Tcp(host, port) => Some((host.as_str(), *port)),
            _ => None,
        }
    }

    pub fn username(&self) -> Option<&str> {
        self.info.redis_settings().username()
    }

    pub fn password(&self) -> Option<&str> {
        self.info.redis_settings().password()
    }

    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    /// `redis://host:port/db` (or `rediss://`), never with the password: for messages.
    pub fn label(&self) -> String {
        let scheme = match self.info.addr() {
            ConnectionAddr::TcpTls { .. } => "rediss",
            _ => "redis",
        };
        format!("{scheme}://{}/{}", self.info.addr(), self.info.redis_settings().db())
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = self.info.redis_settings();
        f.debug_struct("RedisConfig")
            .field("addr", &self.info.addr().to_string())
            .field("tls", &matches!(self.info.addr(), ConnectionAddr::TcpTls { .. }))
            .field("db", &settings.db())
            .field("username", &settings.username())
            .field("password", &settings.password().map(|_| "<hidden>"))
            .finish()
    }
}

/// The URL with anything between `://` and the last `@` of the authority replaced.
fn hide_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***@{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    }
}

/// `prefix` escaped for `SCAN MATCH`, followed by `*`: a prefix is a plain string, so
/// its glob characters (`* ? [ ] \`) must match themselves.
pub fn scan_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

/// One single-key operation of a batch.
#[derive(Debug)]
pub enum Op {
    /// `GET key` → the JSON text or `Missing`.
    Get(String),
    /// `SET key json [PX ms]` → `Done`. `expires_ms: None` keeps it forever.
    Set {
        key: String,
        json: String,
        expires_ms: Option<u64>,
    },
    /// `EXISTS key` → `Bool`.
    Has(String),
    /// `DEL key` → `Done` (also for a missing key).
    Del(String),
}

/// What one operation answered.
#[derive(Debug, PartialEq)]
pub enum Reply {
    Text(String),
    Missing,
    Bool(bool),
    Done,
}

/// Each operation's own outcome: an error here (e.g. `WRONGTYPE`) belongs to that
/// operation alone. A whole batch fails (outer `Err`) only when Redis was not reached.
pub type BatchResult = Result<Vec<Result<Reply, String>>, String>;

/// Receives the answers of one pipeline round: `(batch id, result)` for each batch it
/// carried, in the order the batches were queued. Called on the Redis thread.
pub type BatchSink = Arc<dyn Fn(Vec<(u32, BatchResult)>) + Send + Sync>;

/// Receives the answer of a group job (keys, entries, page, clear). Called once.
pub type Done<T> = Box<dyn FnOnce(Result<T, String>) + Send>;

/// Entries under a prefix: full keys and their JSON texts, in matching order.
#[derive(Debug, Default)]
pub struct Entries {
    pub keys: Vec<String>,
    pub values: Vec<String>,
}

/// One step of an iteration: the cursor to continue from (`"0"` when done) and the
/// entries found in this step.
#[derive(Debug, Default)]
pub struct Page {
    pub cursor: String,
    pub entries: Entries,
}

enum Job {
    Batch(u32, Vec<Op>),
    Keys(String, Done<Vec<String>>),
    Entries(String, Done<Entries>),
    Page(String, String, Done<Page>),
    Clear(String, Done<u64>),
    Close(Done<()>),
}

/// The one thread all Redis stores of the process share: a current-thread tokio
/// runtime that owns every connection and runs every worker. One thread, not a pool:
/// an operation then costs two thread hand-offs (JS → Redis thread → JS) and nothing
/// moves between pool threads; measured ~2x faster per awaited call here than the
/// multi-thread runtime napi-rs would provide.
pub fn runtime() -> Result<&'static tokio::runtime::Handle, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Handle, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("[polykv] [redis] cannot start the Redis thread: {e}"))?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("polykv-redis".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .map_err(|e| format!("[polykv] [redis] cannot start the Redis thread: {e}"))?;
            Ok(handle)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A handle on one Redis store. Its worker stops when the handle is dropped or
/// [`RedisStore::close`] is called.
pub struct RedisStore {
    jobs: mpsc::UnboundedSender<Job>,
    label: String,
}

impl RedisStore {
    /// Starts the store's worker on the Redis thread. Connects lazily, on the first job,
    /// so this does not fail for an unreachable server. `sink` receives batch answers.
    pub fn open(config: RedisConfig, sink: BatchSink) -> Result<Self, String> {
        let label = config.label();
        let client = Client::open(config.info).map_err(|e| format!("[polykv] [redis] {label}: {e}"))?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let worker = Worker {
            client,
            label: label.clone(),
            sink,
            connection: None,
            broken: Arc::new(AtomicBool::new(false)),
            failed_at: None,
        };
        runtime()?.spawn(worker.run(queue));
        Ok(Self { jobs, label })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    fn closed(&self) -> String {
        format!("[polykv] [redis] the store for {} is closed", self.label)
    }

    /// Queues a batch; its answer goes to the sink under `id`. Queuing fixes the order
    /// against later calls. Fails only when the store is closed (then nothing is sent).
    pub fn batch(&self, id: u32, ops: Vec<Op>) -> Result<(), String> {
        self.jobs.send(Job::Batch(id, ops)).map_err(|_| self.closed())
    }

    fn submit<T: 'static>(&self, done: Done<T>, job: impl FnOnce(Done<T>) -> Job) {
        let closed = self.closed();
        // A failed send hands the job back; answer it here.
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job(done)) {
            refuse(job, closed);
        }
    }

    /// Full keys starting with `prefix`, each once.
    pub fn keys(&self, prefix: &str, done: Done<Vec<String>>) {
        self.submit(done, |done| Job::Keys(scan_pattern(prefix), done));
    }

    /// Full keys starting with `prefix` and their JSON texts, each key once.
    pub fn entries(&self, prefix: &str, done: Done<Entries>) {
        self.submit(done, |done| Job::Entries(scan_pattern(prefix), done));
    }

    /// One `SCAN` step from `cursor` (`"0"` to start) with the values of the keys found.
    /// Like `SCAN`, a key may show up in more than one page.
    pub fn page(&self, prefix: &str, cursor: String, done: Done<Page>) {
        self.submit(done, |done| Job::Page(scan_pattern(prefix), cursor, done));
    }

    /// Removes every key starting with `prefix` (all keys of the database for `""`) with
    /// `SCAN` + `UNLINK` in batches; answers how many were removed.
    pub fn clear(&self, prefix: &str, done: Done<u64>) {
        self.submit(done, |done| Job::Clear(scan_pattern(prefix), done));
    }

    /// Closes the connection once the jobs queued before are answered; jobs queued
    /// after it are refused with a "closed" error. Closing twice is fine.
    pub fn close(&self, done: Done<()>) {
        if let Err(mpsc::error::SendError(Job::Close(done))) = self.jobs.send(Job::Close(done)) {
            done(Ok(()));
        }
    }
}

/// Answers a job that will not run (the store is closed). Batches have no callback of
/// their own: the caller that queued them after close is told by the sink.
fn refuse(job: Job, why: String) {
    match job {
        Job::Batch(..) => {}
        Job::Keys(_, done) => done(Err(why)),
        Job::Entries(_, done) => done(Err(why)),
        Job::Page(_, _, done) => done(Err(why)),
        Job::Clear(_, done) => done(Err(why)),
        Job::Close(done) => done(Ok(())),
    }
}

struct Worker {
    client: Client,
    label: String,
    sink: BatchSink,
    connection: Option<MultiplexedConnection>,
    /// Set by a pipeline round that found the connection broken (rounds finish in
    /// their own tasks); the next job then opens a new connection.
    broken: Arc<AtomicBool>,
    /// When the last connection attempt failed, and why.
    failed_at: Option<(Instant, String)>,
}

impl Worker {
    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<Job>) {
        let mut held: Option<Job> = None;
        loop {
            let job = match held.take() {
                Some(job) => job,
                None => match queue.recv().await {
                    Some(job) => job,
                    None => return, // the store handle is gone
                },
            };
            match job {
                Job::Batch(id, ops) => {
                    // Everything that queued up meanwhile goes in the same pipeline.
                    let mut batches = vec![(id, ops)];
                    while let Ok(next) = queue.try_recv() {
                        match next {
                            Job::Batch(id, ops) => batches.push((id, ops)),
                            other => {
                                held = Some(other);
                                break;
                            }
                        }
                    }
                    self.run_batches(batches).await;
                }
                Job::Keys(pattern, done) => done(self.on_connection(|conn| scan_keys(conn, &pattern)).await),
                Job::Entries(pattern, done) => done(self.on_connection(|conn| scan_entries(conn, &pattern)).await),
                Job::Page(pattern, cursor, done) => {
                    done(self.on_connection(|conn| scan_page(conn, &pattern, &cursor)).await)
                }
                Job::Clear(pattern, done) => done(self.on_connection(|conn| clear(conn, &pattern)).await),
                Job::Close(done) => {
                    // Rounds still in flight hold their own handle on the connection
                    // and are answered; the connection closes when the last one ends.
                    self.connection = None;
                    queue.close();
                    // Jobs queued after close learn that the store is closed.
                    let closed = format!("[polykv] [redis] the store for {} is closed", self.label);
                    let mut refused = Vec::new();
                    while let Ok(job) = queue.try_recv() {
                        match job {
                            Job::Batch(id, _) => refused.push((id, Err(closed.clone()))),
                            other => refuse(other, closed.clone()),
                        }
                    }
                    if !refused.is_empty() {
                        (self.sink)(refused);
                    }
                    done(Ok(()));
                    return;
                }
            }
        }
    }

    /// The open connection, or a new one. Fails fast right after a failed attempt.
    async fn connect(&mut self) -> Result<MultiplexedConnection, String> {
        if self.broken.swap(false, Ordering::Relaxed) {
            self.connection = None;
        }
        if let Some(conn) = &self.connection {
            return Ok(conn.clone());
        }
        if let Some((at, why)) = &self.failed_at {
            if at.elapsed() < RETRY_AFTER {
                return Err(self.unreachable(why));
            }
        }
        // Room for many rounds in flight, so queuing one on the connection practically
        // never waits (when it does, tokio's channel is fair and order still holds).
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_pipeline_buffer_size(1024);
        match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(conn) => {
                self.failed_at = None;
                self.connection = Some(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                let why = e.to_string();
                let message = self.unreachable(&why);
                self.failed_at = Some((Instant::now(), why));
                Err(message)
            }
        }
    }

    /// Runs a group job on the open (or a new) connection; see [`Worker::watch`].
    async fn on_connection<T, F>(&mut self, job: impl FnOnce(MultiplexedConnection) -> F) -> Result<T, String>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.connect().await?;
        let result = job(conn).await;
        self.watch(result)
    }

    fn unreachable(&self, why: &str) -> String {
        format!("[polykv] [redis] cannot connect to {}: {why}", self.label)
    }

    /// Passes a result on, forgetting the connection when the error says it is broken
    /// (the next job opens a new one).
    fn watch<T>(&mut self, result: redis::RedisResult<T>) -> Result<T, String> {
        result.map_err(|e| describe_failure(&e, &self.label, &self.broken))
    }

    /// Sends the batches to Redis as one pipeline; the answer goes to the sink from a
    /// task of its own, so the next round can be sent before this one is answered.
    /// The request is queued on the connection before this returns (first poll here),
    /// which keeps rounds in order on the wire.
    async fn run_batches(&mut self, batches: Vec<(u32, Vec<Op>)>) {
        let mut conn = match self.connect().await {
            Ok(conn) => conn,
            Err(e) => {
                (self.sink)(batches.into_iter().map(|(id, _)| (id, Err(e.clone()))).collect());
                return;
            }
        };
        let count: usize = batches.iter().map(|(_, ops)| ops.len()).sum();
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let mut kinds = Vec::with_capacity(count);
        let mut sizes = Vec::with_capacity(batches.len());
        for (id, ops) in batches {
            sizes.push((id, ops.len()));
            for op in ops {
                kinds.push(add_command(&mut pipe, op));
            }
        }
        let round = Round {
            sizes,
            kinds,
            label: self.label.clone(),
            sink: self.sink.clone(),
            broken: self.broken.clone(),
        };
        if count == 0 {
            round.answer(Ok(Vec::new()));
            return;
        }
        let mut request = Box::pin(async move { pipe.query_async::<Vec<Value>>(&mut conn).await });
        let first = std::future::poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(result) => round.answer(result),
            Poll::Pending => {
                tokio::spawn(async move { round.answer(request.await) });
            }
        }
    }
}

/// The message for a failed command or pipeline; flags the connection as broken when
/// the error says so.
fn describe_failure(e: &redis::RedisError, label: &str, broken: &AtomicBool) -> String {
    if e.is_unrecoverable_error() || e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
        broken.store(true, Ordering::Relaxed);
        format!("[polykv] [redis] lost the connection to {label}: {e}")
    } else {
        format!("[polykv] [redis] {label}: {e}")
    }
}

/// What is needed to answer one pipeline round once Redis replied.
struct Round {
    /// (batch id, number of operations) in pipeline order.
    sizes: Vec<(u32, usize)>,
    kinds: Vec<Kind>,
    label: String,
    sink: BatchSink,
    broken: Arc<AtomicBool>,
}

impl Round {
    fn answer(self, result: redis::RedisResult<Vec<Value>>) {
        let Round {
            sizes,
            kinds,
            label,
            sink,
            broken,
        } = self;
        let count = kinds.len();
        let answers = match result {
            Ok(values) if values.len() == count => {
                let mut values = values.into_iter().zip(kinds);
                sizes
                    .into_iter()
                    .map(|(id, size)| {
                        let replies = values
                            .by_ref()
                            .take(size)
                            .map(|(value, kind)| read_reply(kind, value))
                            .collect();
                        (id, Ok(replies))
                    })
                    .collect()
            }
            Ok(values) => {
                let e = format!(
                    "[polykv] [redis] {label} answered {} replies to {count} commands",
                    values.len()
                );
                broken.store(true, Ordering::Relaxed); // out of step: start afresh
                sizes.into_iter().map(|(id, _)| (id, Err(e.clone()))).collect()
            }
            Err(e) => {
                let e = describe_failure(&e, &label, &broken);
                sizes.into_iter().map(|(id, _)| (id, Err(e.clone()))).collect()
            }
        };
        sink(answers);
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Get,
    Set,
    Has,
    Del,
}

fn add_command(pipe: &mut redis::Pipeline, op: Op) -> Kind {
    match op {
        Op::Get(key) => {
            pipe.cmd("GET").arg(key);
            Kind::Get
        }
        Op::Set { key, json, expires_ms } => {
            pipe.cmd("SET").arg(key).arg(json);
            if let Some(ms) = expires_ms {
                pipe.arg("PX").arg(ms.max(1));
            }
            Kind::Set
        }
        Op::Has(key) => {
            pipe.cmd("EXISTS").arg(key);
            Kind::Has
        }
        Op::Del(key) => {
            pipe.cmd("DEL").arg(key);
            Kind::Del
        }
    }
}

fn read_reply(kind: Kind, value: Value) -> Result<Reply, String> {
    match (kind, value) {
        (_, Value::ServerError(e)) => Err(match e.details() {
            Some(details) => format!("[polykv] [redis] {} {details}", e.code()),
            None => format!("[polykv] [redis] {}", e.code()),
        }),
        (Kind::Get, Value::Nil) => Ok(Reply::Missing),
        (Kind::Get, Value::BulkString(bytes)) => Ok(Reply::Text(text(bytes))),
        (Kind::Get, Value::SimpleString(s)) => Ok(Reply::Text(s)),
        (Kind::Has, Value::Int(n)) => Ok(Reply::Bool(n > 0)),
        (Kind::Set | Kind::Del, _) => Ok(Reply::Done),
        (_, other) => Err(format!("[polykv] [redis] unexpected reply {other:?}")),
    }
}

/// Redis strings are bytes; a value polykv or polystore wrote is UTF-8 JSON. Anything
/// else is passed on lossily and then fails JSON parsing with a clear error in JS.
pub(crate) fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// One `SCAN cursor MATCH pattern COUNT n` step: (next cursor, keys).
async fn scan_step(
    conn: &mut MultiplexedConnection,
    pattern: &str,
    cursor: &str,
) -> redis::RedisResult<(String, Vec<String>)> {
    let (next, keys): (String, Vec<Vec<u8>>) = redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCAN_COUNT)
        .query_async(conn)
        .await?;
    Ok((next, keys.into_iter().map(text).collect()))
}

async fn scan_keys(mut conn: MultiplexedConnection, pattern: &str) -> redis::RedisResult<Vec<String>> {
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, found) = scan_step(&mut conn, pattern, &cursor).await?;
        for key in found {
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        }
        if next == "0" {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// `MGET` in chunks; keys that vanished in between (expired, deleted) are left out.
async fn read_values(conn: &mut MultiplexedConnection, keys: Vec<String>) -> redis::RedisResult<Entries> {
    let mut entries = Entries::default();
    for chunk in keys.chunks(SCAN_COUNT) {
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(chunk).query_async(conn).await?;
        for (key, value) in chunk.iter().zip(values) {
            if let Some(value) = value {
                entries.keys.push(key.clone());
                entries.values.push(text(value));
            }
        }
    }
    Ok(entries)
}

async fn scan_entries(conn: MultiplexedConnection, pattern: &str) -> redis::RedisResult<Entries> {
    let keys = scan_keys(conn.clone(), pattern).await?;
    let mut conn = conn;
    read_values(&mut conn, keys).await
}

async fn scan_page(mut conn: MultiplexedConnection, pattern: &str, cursor: &str) -> redis::RedisResult<Page> {
    let (next, keys) = scan_step(&mut conn, pattern, cursor).await?;
    let entries = if keys.is_empty() {
        Entries::default()
    } else {
        read_values(&mut conn, keys).await?
    };
    Ok(Page { cursor: next, entries })
}

async fn clear(mut conn: MultiplexedConnection, pattern: &str) -> redis::RedisResult<u64> {
    let mut removed = 0;
    let mut cursor = "0".to_string();
    loop {
        let (next, keys) = scan_step(&mut conn, pattern, &cursor).await?;
        if !keys.is_empty() {
            let n: u64 = redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await?;
            removed += n;
        }
        if next == "0" {
            return Ok(removed);
        }
        cursor = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pattern_escapes_glob_characters() {
        assert_eq!(scan_pattern(""), "*");
        assert_eq!(scan_pattern("user:"), "user:*");
        assert_eq!(scan_pattern("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f*");
        assert_eq!(scan_pattern("ünï:"), "ünï:*");
    }

    #[test]
    fn config_reads_host_port_db_and_credentials() {
        let config = RedisConfig::from_url("redis://alice:s3cret@127.0.0.1:6390/3").unwrap();
        assert_eq!(config.label(), "redis://127.0.0.1:6390/3");
        let settings = config.info.redis_settings();
        assert_eq!(settings.username(), Some("alice"));
        assert_eq!(settings.password(), Some("s3cret"));
        assert_eq!(settings.db(), 3);
        let defaults = RedisConfig::from_url("redis://localhost").unwrap();
        assert_eq!(defaults.label(), "redis://localhost:6379/0");
        let tls = RedisConfig::from_url("REDISS://:pw@example.com:6380/2").unwrap();
        assert_eq!(tls.label(), "rediss://example.com:6380/2");
        assert!(format!("{tls:?}").contains("tls: true"));
        assert!(tls.info.tcp_settings().nodelay());
    }

    #[test]
    fn debug_and_errors_hide_the_password() {
        let config = RedisConfig::from_url("redis://:s3cret@127.0.0.1:6390/1").unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("<hidden>"), "{debug}");
        let error = RedisConfig::from_url("redis://:s3cret@127.0.0.1:6390/notanumber").unwrap_err();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains("***@127.0.0.1"), "{error}");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(RedisConfig::from_url("http://localhost").is_err());
        assert!(RedisConfig::from_url("redis:/x").is_err());
        assert!(RedisConfig::from_url("").is_err());
    }

    #[test]
    fn hide_password_keeps_urls_without_credentials() {
        assert_eq!(hide_password("redis://h:1/2"), "redis://h:1/2");
        assert_eq!(hide_password("redis://u:p@h:1/2"), "redis://***@h:1/2");
        assert_eq!(hide_password("redis://u:p@ss@h"), "redis://***@h");
    }

    #[test]
    fn replies_are_read_per_kind() {
        assert_eq!(read_reply(Kind::Get, Value::Nil), Ok(Reply::Missing));
        assert_eq!(
            read_reply(Kind::Get, Value::BulkString(b"{\"a\":1}".to_vec())),
            Ok(Reply::Text("{\"a\":1}".into()))
        );
        assert_eq!(read_reply(Kind::Has, Value::Int(1)), Ok(Reply::Bool(true)));
        assert_eq!(read_reply(Kind::Has, Value::Int(0)), Ok(Reply::Bool(false)));
        assert_eq!(read_reply(Kind::Set, Value::Okay), Ok(Reply::Done));
        assert!(read_reply(Kind::Has, Value::Nil).is_err());
    }
}
