//! The registry in Redis (a server run with `--redis`), so every server process sharing the
//! Redis shares the records. Keys (one hash slot, `{registry}`, so Redis Cluster works too):
//!
//! * `<prefix>{registry}:<kind>:records` — hash, id → the current record (JSON);
//! * `<prefix>{registry}:<kind>:history:<id>` — list, version n at index n − 1;
//! * `<prefix>{registry}:generation` — the change counter servers poll.
//!
//! A put or delete is one Lua script (the checks and the write atomic). Registry traffic is only
//! the management API and the ~1 s generation poll: never a turn.

use super::{identity, RegistryError, RegistryFuture, RegistryStore};
use crate::RedisConfig;
use deadpool_redis::{Runtime, Timeouts};
use redis::{FromRedisValue, Script};
use serde_json::Value;
use std::sync::LazyLock;
use std::time::Duration;

enum Pool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

pub struct RedisRegistry {
    pool: Pool,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisRegistry(prefix {:?})", self.prefix)
    }
}

static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local expected = tonumber(ARGV[4])
if expected == 0 then
  if cur then return {'id'} end
else
  if not cur then return {'missing'} end
  local v = cjson.decode(cur).version
  if v ~= expected then return {'stale', tostring(v)} end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local d = cjson.decode(all[i + 1])
    local scope = ''
    if type(d.project_id) == 'string' then scope = '=' .. d.project_id end
    if d.name == ARGV[2] and scope == ARGV[3] then return {'name', all[i]} end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('INCR', KEYS[3])
return {'ok'}
"#,
    )
});

static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if n > 0 then redis.call('INCR', KEYS[3]) end
return n
"#,
    )
});

fn fail(e: impl std::fmt::Display) -> RegistryError {
    let text = e.to_string();
    // A Redis URL may hold a password: never echo one.
    if text.contains("://") {
        RegistryError::Unavailable("Redis error".into())
    } else {
        RegistryError::Unavailable(format!("Redis error: {text}"))
    }
}

fn decode(text: &str) -> Result<Value, RegistryError> {
    serde_json::from_str(text).map_err(fail)
}

impl RedisRegistry {
    /// The registry on the Redis of `cfg` (its URLs, mode, prefix and timeout); connects lazily.
    pub fn new(cfg: &RedisConfig) -> Result<RedisRegistry, String> {
        let url = cfg.urls.first().ok_or("no Redis URL given")?;
        let timeouts = Timeouts {
            wait: Some(cfg.timeout),
            create: Some(cfg.timeout),
            recycle: Some(cfg.timeout),
        };
        let pool = if cfg.cluster {
            let p = deadpool_redis::cluster::Config::from_urls(cfg.urls.clone())
                .builder()
                .map_err(|_| "invalid Redis Cluster URLs".to_string())?
                .max_size(2)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(|e| format!("cannot build the Redis Cluster pool: {e}"))?;
            Pool::Cluster(p)
        } else {
            let manager = deadpool_redis::Manager::new(url.as_str())
                .map_err(|_| "invalid Redis URL".to_string())?;
            let p = deadpool_redis::Pool::builder(manager)
                .max_size(2)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(|e| format!("cannot build the Redis pool: {e}"))?;
            Pool::Single(p)
        };
        Ok(RedisRegistry {
            pool,
            prefix: cfg.prefix.clone(),
            timeout: cfg.timeout,
        })
    }

    fn records(&self, kind: &str) -> String {
        format!("{}{{registry}}:{kind}:records", self.prefix)
    }

    fn history_key(&self, kind: &str, id: &str) -> String {
        format!("{}{{registry}}:{kind}:history:{id}", self.prefix)
    }

    fn generation_key(&self) -> String {
        format!("{}{{registry}}:generation", self.prefix)
    }

    async fn query<T: FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, RegistryError> {
        let work = async {
            match &self.pool {
                Pool::Single(p) => {
                    let mut c = p.get().await.map_err(fail)?;
                    cmd.query_async(&mut *c).await.map_err(fail)
                }
                Pool::Cluster(p) => {
                    let mut c = p.get().await.map_err(fail)?;
                    cmd.query_async(&mut *c).await.map_err(fail)
                }
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RegistryError::Unavailable("Redis did not answer in time".into()))?
    }

    async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<T, RegistryError> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(k);
        }
        for a in args {
            inv.arg(a);
        }
        let work = async {
            match &self.pool {
                Pool::Single(p) => {
                    let mut c = p.get().await.map_err(fail)?;
                    inv.invoke_async(&mut *c).await.map_err(fail)
                }
                Pool::Cluster(p) => {
                    let mut c = p.get().await.map_err(fail)?;
                    inv.invoke_async(&mut *c).await.map_err(fail)
                }
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RegistryError::Unavailable("Redis did not answer in time".into()))?
    }
}

impl RegistryStore for RedisRegistry {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn list<'a>(&'a self, kind: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let all: Vec<(String, String)> = self
                .query(redis::cmd("HGETALL").arg(self.records(kind)).clone())
                .await?;
            let mut out = all
                .iter()
                .map(|(_, v)| decode(v))
                .collect::<Result<Vec<_>, _>>()?;
            out.sort_by(|a, b| {
                a.get("id")
                    .and_then(Value::as_str)
                    .cmp(&b.get("id").and_then(Value::as_str))
            });
            Ok(out)
        })
    }

    fn get<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Option<Value>> {
        Box::pin(async move {
            let got: Option<String> = self
                .query(redis::cmd("HGET").arg(self.records(kind)).arg(id).clone())
                .await?;
            got.as_deref().map(decode).transpose()
        })
    }

    fn put<'a>(
        &'a self,
        kind: &'a str,
        mut record: Value,
        expected: u64,
    ) -> RegistryFuture<'a, Value> {
        Box::pin(async move {
            let (id, name, scope) = identity(&record)?;
            if let Some(obj) = record.as_object_mut() {
                obj.insert("version".into(), Value::from(expected + 1));
            }
            let json = serde_json::to_string(&record).map_err(fail)?;
            let keys = [
                self.records(kind),
                self.history_key(kind, &id),
                self.generation_key(),
            ];
            let args = [
                id.clone(),
                name.clone(),
                scope.map(|s| format!("={s}")).unwrap_or_default(),
                expected.to_string(),
                json,
            ];
            let answer: Vec<String> = self.script(&PUT, &keys, &args).await?;
            match answer.first().map(String::as_str) {
                Some("ok") => Ok(record),
                Some("id") => Err(RegistryError::IdTaken(id)),
                Some("missing") => Err(RegistryError::NotFound(id)),
                Some("stale") => Err(RegistryError::Stale {
                    current: answer.get(1).and_then(|v| v.parse().ok()).unwrap_or(0),
                }),
                Some("name") => Err(RegistryError::NameTaken {
                    name,
                    id: answer.get(1).cloned().unwrap_or_default(),
                }),
                _ => Err(RegistryError::Unavailable(
                    "unexpected answer of the registry script".into(),
                )),
            }
        })
    }

    fn delete<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, bool> {
        Box::pin(async move {
            let keys = [
                self.records(kind),
                self.history_key(kind, id),
                self.generation_key(),
            ];
            let n: i64 = self.script(&DELETE, &keys, &[id.to_string()]).await?;
            Ok(n > 0)
        })
    }

    fn history<'a>(&'a self, kind: &'a str, id: &'a str) -> RegistryFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let all: Vec<String> = self
                .query(
                    redis::cmd("LRANGE")
                        .arg(self.history_key(kind, id))
                        .arg(0)
                        .arg(-1)
                        .clone(),
                )
                .await?;
            all.iter().map(|v| decode(v)).collect()
        })
    }

    fn get_version<'a>(
        &'a self,
        kind: &'a str,
        id: &'a str,
        version: u64,
    ) -> RegistryFuture<'a, Option<Value>> {
        Box::pin(async move {
            if version == 0 {
                return Ok(None);
            }
            let got: Option<String> = self
                .query(
                    redis::cmd("LINDEX")
                        .arg(self.history_key(kind, id))
                        .arg(version - 1)
                        .clone(),
                )
                .await?;
            let v = got.as_deref().map(decode).transpose()?;
            Ok(v.filter(|v| v.get("version").and_then(Value::as_u64) == Some(version)))
        })
    }

    fn generation(&self) -> RegistryFuture<'_, u64> {
        Box::pin(async move {
            let g: Option<u64> = self
                .query(redis::cmd("GET").arg(self.generation_key()).clone())
                .await?;
            Ok(g.unwrap_or(0))
        })
    }
}
