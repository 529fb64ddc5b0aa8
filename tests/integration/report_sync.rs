//! `report sync` against the simulator, into SQLite files and into a real PostgreSQL server
//! (started here): first sync, rerun, late attribution, a killed run resumed, a new metric,
//! one failing account among several, exact sums against `report run`, and bad destinations.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;

use chrono::NaiveDate;
use serde_json::json;

use crate::pg::PgServer;
use crate::support::{Simulator, TestEnv, assert_fails, stderr_of};

const ADV: &str = "7300000000000000001";
const OTHER_ADV: &str = "7300000000000000002";
const METRICS: &str = "spend,impressions,clicks,ctr,cpc,conversion";

/// Where a test syncs to, and how it reads what is there.
enum Target {
    Sqlite(PathBuf),
    Postgres {
        url: String,
        password: String,
        port: u16,
        user: String,
        db: String,
    },
}

type Rows = BTreeMap<Vec<String>, Vec<Option<String>>>;

impl Target {
    fn sqlite(env: &TestEnv, name: &str) -> Self {
        Target::Sqlite(env.work_dir().join(name))
    }

    fn postgres(server: &PgServer, db: &str) -> Self {
        Target::Postgres {
            url: server.database(db),
            password: server.password.clone(),
            port: server.port,
            user: server.user.clone(),
            db: db.to_string(),
        }
    }

    fn destination(&self) -> String {
        match self {
            Target::Sqlite(path) => format!("sqlite:{}", path.display()),
            Target::Postgres { url, .. } => url.clone(),
        }
    }

    /// Rows of a query whose columns are all read as text (NULL as `None`).
    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.try_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn try_query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        match self {
            Target::Sqlite(path) => {
                let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
                let db = rusqlite::Connection::open_with_flags(path, flags)
                    .map_err(|e| e.to_string())?;
                let mut statement = db.prepare(sql).map_err(|e| e.to_string())?;
                let n = statement.column_count();
                statement
                    .query_map([], |row| {
                        (0..n)
                            .map(|i| row.get::<_, Option<String>>(i))
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| e.to_string())
            }
            Target::Postgres { .. } => {
                let sql = sql.to_string();
                self.with_pg(move |client| {
                    let rows = client.query(sql.as_str(), &[]).map_err(|e| e.to_string())?;
                    Ok(rows
                        .iter()
                        .map(|r| {
                            (0..r.len())
                                .map(|i| r.get::<_, Option<String>>(i))
                                .collect()
                        })
                        .collect())
                })
            }
        }
    }

    /// Runs `work` with a client of the test's own, on a thread of its own (the driver may
    /// not block a thread of the test's async runtime).
    fn with_pg<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let Target::Postgres {
            password,
            port,
            user,
            db,
            ..
        } = self
        else {
            unreachable!("a PostgreSQL target");
        };
        let mut config = postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(*port)
            .user(user)
            .password(password)
            .dbname(db);
        std::thread::spawn(move || {
            let mut client = config.connect(postgres::NoTls).map_err(|e| e.to_string())?;
            work(&mut client)
        })
        .join()
        .expect("the query thread ends")
    }

    fn execute(&self, sql: &str) {
        match self {
            Target::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("open");
                db.execute_batch(sql).expect(sql);
            }
            Target::Postgres { .. } => {
                let sql = sql.to_string();
                self.with_pg(move |c| c.batch_execute(&sql).map_err(|e| e.to_string()))
                    .expect("the statements run");
            }
        }
    }

    /// The text of a column as the database holds it.
    fn text(&self, column: &str) -> String {
        match self {
            Target::Sqlite(_) => format!("\"{column}\""),
            Target::Postgres { .. } => format!("\"{column}\"::text"),
        }
    }

    /// Every row of `table` keyed by advertiser, ID and day, with the given metrics.
    fn rows(&self, table: &str, id: &str, metrics: &[&str]) -> Rows {
        let columns: Vec<String> = ["advertiser_id", id, "stat_time_day"]
            .iter()
            .chain(metrics)
            .map(|c| self.text(c))
            .collect();
        self.query(&format!("SELECT {} FROM {table}", columns.join(", ")))
            .into_iter()
            .map(|mut row| {
                let values = row.split_off(3);
                (
                    row.into_iter().map(|k| k.unwrap_or_default()).collect(),
                    values,
                )
            })
            .collect()
    }

    /// Per advertiser, the last day synced into `table`.
    fn last_days(&self, table: &str) -> BTreeMap<String, NaiveDate> {
        self.try_last_days(table).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_last_days(&self, table: &str) -> Result<BTreeMap<String, NaiveDate>, String> {
        Ok(self
            .try_query(&format!(
                "SELECT advertiser_id, {} FROM tiktok_sync_state WHERE table_name = '{table}'",
                self.text("last_day")
            ))?
            .into_iter()
            .map(|r| {
                (
                    r[0].clone().unwrap_or_default(),
                    r[1].as_deref().unwrap_or_default().parse().expect("a date"),
                )
            })
            .collect())
    }
}

struct Sync<'a> {
    env: &'a TestEnv,
    sim: &'a Simulator,
    target: &'a Target,
}

impl Sync<'_> {
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.env.std_cmd();
        cmd.env("TIKTOK_ADS_BASE_URL", &self.sim.url)
            .env("TIKTOK_ACCESS_TOKEN", &self.sim.token)
            .args(["report", "sync", "--into", &self.target.destination()])
            .args(args);
        if let Target::Postgres { password, .. } = self.target {
            cmd.env("PGPASSWORD", password);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("tiktok-ads runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "report sync failed: {}",
            stderr_of(&out)
        );
        stderr_of(&out)
    }
}

/// One run of `report sync --into URL` with `PGPASSWORD` (or none).
fn sync_to(env: &TestEnv, sim: &Simulator, url: &str, password: Option<&str>) -> Output {
    let mut cmd = env.std_cmd();
    cmd.env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", &sim.token)
        .args([
            "report",
            "sync",
            "--advertiser",
            ADV,
            "--since",
            &days_ago(3),
        ])
        .args(["--into", url]);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    cmd.output().expect("tiktok-ads runs")
}

/// One run of `report sync` into `target`.
fn run_sync(env: &TestEnv, sim: &Simulator, target: &Target, args: &[&str]) -> Output {
    Sync { env, sim, target }.run(args)
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

/// Polls `found` until it finds something, for at most a minute (then fails, saying `what`
/// never happened).
fn wait_until<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The flags of a sync of the last 30 days that pulls every one of them again, a page at a
/// time.
fn every_day_again(since: &str) -> [&str; 12] {
    [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--metrics",
        METRICS,
        "--since",
        since,
        "--lookback",
        "31",
        "--concurrency",
        "1",
    ]
}

/// After a first sync: TikTok restates every day, its answers slow down, and a re-sync starts
/// (stderr piped), to be stopped or cut while its rows arrive.
/// A PostgreSQL table synced once (30 days, twenty pages a window, so that a re-sync can be
/// stopped or cut while its rows arrive), with the rows it then held.
struct SyncedOnce {
    env: TestEnv,
    sim: Simulator,
    target: Target,
    since: String,
    before: BTreeMap<Vec<String>, Vec<Option<String>>>,
    _server: PgServer,
}

impl SyncedOnce {
    async fn start(database: &str) -> Option<Self> {
        let env = TestEnv::new().await;
        let sim = Simulator::start(&env, &["--rows", "20000"]);
        let server = PgServer::start()?;
        let target = Target::postgres(&server, database);
        let since = days_ago(30);
        let sync = Sync {
            env: &env,
            sim: &sim,
            target: &target,
        };
        sync.ok(&every_day_again(&since));
        let before = target.rows("tiktok_ad_daily", "ad_id", &metric_names());
        Some(Self {
            env,
            sim,
            target,
            since,
            before,
            _server: server,
        })
    }

    fn sync(&self) -> Sync<'_> {
        Sync {
            env: &self.env,
            sim: &self.sim,
            target: &self.target,
        }
    }
}

fn start_slow_resync(sync: &Sync, args: &[&str]) -> std::process::Child {
    sync.sim
        .control("POST", "/_mock/restate", r#"{"days": 40}"#);
    sync.sim
        .control("POST", "/_mock/faults", r#"{"latency_ms": 150}"#);
    sync.command(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// `inserted, updated, unchanged` from the summary line of `table`.
fn counts(stderr: &str, table: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("{table}: ")))
        .unwrap_or_else(|| panic!("no summary for {table} in {stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// An exact decimal sum (no float): TikTok's strings added digit for digit.
fn exact_sum<'a>(values: impl Iterator<Item = &'a str>) -> String {
    const SCALE: u32 = 6;
    let total: i128 = values
        .map(|v| {
            let v = v.trim_end_matches('%');
            let (int, frac) = v.split_once('.').unwrap_or((v, ""));
            assert!(frac.len() <= SCALE as usize, "{v}");
            let frac = format!("{frac:0<6}");
            int.parse::<i128>().unwrap() * 10i128.pow(SCALE) + frac.parse::<i128>().unwrap()
        })
        .sum();
    format!(
        "{}.{:06}",
        total / 10i128.pow(SCALE),
        total % 10i128.pow(SCALE)
    )
}

/// `report run` over the same days and metrics, as rows keyed like the table's.
fn report_run(env: &TestEnv, sim: &Simulator, advertiser: &str, start: &str, end: &str) -> Rows {
    let out = env
        .std_cmd()
        .env("TIKTOK_ADS_BASE_URL", &sim.url)
        .env("TIKTOK_ACCESS_TOKEN", &sim.token)
        .args([
            "report",
            "run",
            "--advertiser",
            advertiser,
            "--level",
            "ad",
            "--start",
            start,
            "--end",
            end,
            "--include-deleted",
            "--metrics",
            METRICS,
            "--format",
            "csv",
        ])
        .output()
        .expect("report run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let key = vec![
                advertiser.to_string(),
                r[0].to_string(),
                r[1][..10].to_string(),
            ];
            let values = (2..r.len())
                .map(|i| (&r[i] != "-").then(|| r[i].to_string()))
                .collect();
            (key, values)
        })
        .collect()
}

fn metric_names() -> Vec<&'static str> {
    METRICS.split(',').collect()
}

/// First sync, a rerun that changes nothing, restated days picked up by the lookback, and
/// every row and every metric's sum equal to `report run` over the same days.
fn first_sync_rerun_and_late_attribution(env: &TestEnv, sim: &Simulator, target: &Target) {
    let sync = Sync { env, sim, target };
    let since = days_ago(8);
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--metrics",
        METRICS,
        "--since",
        &since,
    ];
    let first = sync.ok(&args);
    let (inserted, updated, unchanged) = counts(&first, "tiktok_ad_daily");
    assert!(inserted > 0 && updated == 0 && unchanged == 0, "{first}");
    let rows = target.rows("tiktok_ad_daily", "ad_id", &metric_names());
    assert_eq!(rows.len() as u64, inserted);
    let last = target.last_days("tiktok_ad_daily")[ADV];
    assert!(
        last >= chrono::Utc::now().date_naive() - chrono::Duration::days(2),
        "synced to yesterday in the account's zone, not {last}"
    );

    // Rerun: nothing new, the lookback days read again and found unchanged.
    let again = sync.ok(&args);
    let (inserted, updated, unchanged) = counts(&again, "tiktok_ad_daily");
    assert_eq!((inserted, updated), (0, 0), "{again}");
    assert!(unchanged > 0, "the last 3 days are pulled again: {again}");
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        rows
    );

    // TikTok restates the last day: the lookback picks the change up.
    sim.control(
        "POST",
        "/_mock/restate",
        &json!({"since": last.to_string()}).to_string(),
    );
    let restated = sync.ok(&args);
    let (inserted, updated, _) = counts(&restated, "tiktok_ad_daily");
    assert_eq!(inserted, 0, "{restated}");
    assert!(
        updated > 0,
        "the restated day's rows are updated: {restated}"
    );
    let now = target.rows("tiktok_ad_daily", "ad_id", &metric_names());
    assert_eq!(now.len(), rows.len(), "no duplicates");
    assert_ne!(now, rows);

    // Row for row, and each metric's sum to the last digit, what `report run` gives.
    let first_day = rows.keys().map(|k| k[2].clone()).min().unwrap();
    let expected = report_run(env, sim, ADV, &first_day, &last.to_string());
    assert_eq!(now, expected);
    for (i, metric) in metric_names().iter().enumerate() {
        let sum = |rows: &Rows| exact_sum(rows.values().filter_map(|v| v[i].as_deref()));
        assert_eq!(sum(&now), sum(&expected), "{metric}");
    }

    // The state lost (a restored backup, a hand-made table): the rows already there are
    // merged, never inserted twice nor refused.
    target.execute("DELETE FROM tiktok_sync_state");
    let again = sync.ok(&args);
    let (inserted, _, unchanged) = counts(&again, "tiktok_ad_daily");
    assert_eq!(inserted, 0, "{again}");
    assert_eq!(unchanged as usize, now.len(), "{again}");
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        now
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_first_sync_rerun_and_late_attribution() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let target = Target::sqlite(&env, "ads.db");
    first_sync_rerun_and_late_attribution(&env, &sim, &target);
    // Metrics are TikTok's exact text, never a float's.
    let types = target.query("SELECT typeof(spend), spend FROM tiktok_ad_daily LIMIT 1");
    assert_eq!(types[0][0].as_deref(), Some("text"));
}

/// A run killed (SIGKILL) in the middle, then run again, leaves what one clean run leaves.
fn killed_then_resumed(env: &TestEnv, sim: &Simulator, target: &Target, clean: &Target) {
    let since = days_ago(12);
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--by",
        "hour",
        "--metrics",
        "spend,impressions",
        "--since",
        &since,
        "--concurrency",
        "1",
    ];
    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 150}"#);
    let sync = Sync { env, sim, target };
    let mut child = sync
        .command(&args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    wait_until("no window was ever committed", || {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the sync ended before the kill"
        );
        // Before the sync has made its tables, there is nothing to read yet.
        let committed = target.try_last_days("tiktok_ad_hourly").unwrap_or_default();
        (!committed.is_empty()).then_some(())
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let partial = target.last_days("tiktok_ad_hourly")[ADV];
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    assert!(
        partial < yesterday - chrono::Duration::days(1),
        "killed mid-way, at {partial}"
    );

    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 0}"#);
    sync.ok(&args);
    Sync {
        env,
        sim,
        target: clean,
    }
    .ok(&args);
    let metrics = ["spend", "impressions"];
    let read = |t: &Target| {
        t.query(&format!(
            "SELECT advertiser_id, ad_id, {}, {}, {} FROM tiktok_ad_hourly ORDER BY 1, 2, 3",
            t.text("stat_time_hour"),
            t.text(metrics[0]),
            t.text(metrics[1])
        ))
    };
    let (a, b) = (read(target), read(clean));
    let per_day = |rows: &[Vec<Option<String>>]| {
        let mut days: BTreeMap<String, usize> = BTreeMap::new();
        for r in rows {
            *days
                .entry(r[2].as_deref().unwrap_or_default()[..10].to_string())
                .or_default() += 1;
        }
        days
    };
    assert!(!a.is_empty());
    assert_eq!(per_day(&a), per_day(&b), "no hole, no duplicate");
    assert_eq!(a, b);
    assert_eq!(
        target.last_days("tiktok_ad_hourly"),
        clean.last_days("tiktok_ad_hourly")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_killed_run_resumes_without_holes_or_duplicates() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    killed_then_resumed(
        &env,
        &sim,
        &Target::sqlite(&env, "killed.db"),
        &Target::sqlite(&env, "clean.db"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_sigterm_mid_run_keeps_only_whole_windows() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let target = Target::sqlite(&env, "stopped.db");
    let since = days_ago(10);
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--by",
        "hour",
        "--metrics",
        "spend",
        "--since",
        &since,
        "--concurrency",
        "1",
    ];
    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 150}"#);
    let child = Sync {
        env: &env,
        sim: &sim,
        target: &target,
    }
    .command(&args)
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("spawn");
    wait_until("no window was ever committed", || {
        let committed = target.try_last_days("tiktok_ad_hourly").unwrap_or_default();
        (!committed.is_empty()).then_some(())
    });
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().expect("reaped");
    assert_eq!(out.status.code(), Some(143), "{}", stderr_of(&out));
    // Every day in the table is whole (24 hours × 12 ads) and recorded; nothing after it.
    let last = target.last_days("tiktok_ad_hourly")[ADV].to_string();
    // The message says what is in: the days committed, and that the next run goes on.
    assert!(
        stderr_of(&out).contains(&format!("committed, up to {last} for advertiser {ADV}"))
            && stderr_of(&out).contains("the next run continues from there")
            && !stderr_of(&out).contains("nothing was written"),
        "{}",
        stderr_of(&out)
    );
    let days = target.query(
        "SELECT substr(stat_time_hour, 1, 10), CAST(count(*) AS TEXT) FROM tiktok_ad_hourly \
         GROUP BY 1",
    );
    for day in &days {
        assert_eq!(day[1].as_deref(), Some("288"), "{day:?}");
        assert!(
            day[0].as_deref().unwrap_or_default() <= last.as_str(),
            "{day:?} after {last}"
        );
    }
}

/// A metric added later gets its column; rows not pulled again keep NULL in it.
fn new_metric_adds_a_column(env: &TestEnv, sim: &Simulator, target: &Target) {
    let sync = Sync { env, sim, target };
    let since = days_ago(8);
    let base = ["--advertiser", ADV, "--level", "ad", "--since", &since];
    sync.ok(&[&base[..], &["--metrics", "spend,impressions"]].concat());
    sync.ok(&[
        &base[..],
        &["--metrics", "spend,impressions,reach", "--lookback", "1"],
    ]
    .concat());
    let rows = target.rows("tiktok_ad_daily", "ad_id", &["spend", "reach"]);
    let last = target.last_days("tiktok_ad_daily")[ADV].to_string();
    for (key, values) in &rows {
        assert!(values[0].is_some());
        assert_eq!(
            values[1].is_some(),
            key[2] == last,
            "{key:?}: only re-pulled rows have reach"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_new_metric_adds_a_column() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    new_metric_adds_a_column(&env, &sim, &Target::sqlite(&env, "ads.db"));
}

/// One account failing: exit 6, the other synced and recorded; the next run catches it up.
fn one_failing_account(env: &TestEnv, sim: &Simulator, target: &Target) {
    let sync = Sync { env, sim, target };
    let since = days_ago(5);
    let args = [
        "--advertiser",
        ADV,
        "--advertiser",
        OTHER_ADV,
        "--level",
        "campaign",
        "--since",
        &since,
        "--with-entities",
    ];
    sim.control(
        "POST",
        "/_mock/faults",
        &json!({"endpoint": "/report/integrated/get/", "advertiser": OTHER_ADV, "fail_every": 1})
            .to_string(),
    );
    let out = sync.run(&args);
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(OTHER_ADV), "{}", stderr_of(&out));
    let state = target.last_days("tiktok_campaign_daily");
    assert!(
        state.contains_key(ADV) && !state.contains_key(OTHER_ADV),
        "{state:?}"
    );
    let rows = target.rows("tiktok_campaign_daily", "campaign_id", &["spend"]);
    assert!(rows.keys().all(|k| k[0] == ADV));

    sim.control(
        "POST",
        "/_mock/faults",
        r#"{"endpoint": null, "advertiser": null, "fail_every": null}"#,
    );
    sync.ok(&args);
    let state = target.last_days("tiktok_campaign_daily");
    assert!(
        state.contains_key(ADV) && state.contains_key(OTHER_ADV),
        "{state:?}"
    );
    let rows = target.rows("tiktok_campaign_daily", "campaign_id", &["spend"]);
    let first_other = rows
        .keys()
        .filter(|k| k[0] == OTHER_ADV)
        .map(|k| k[2].clone())
        .min();
    assert_eq!(first_other, Some(since.clone()), "caught up from --since");
    // The entity tables join report rows to names.
    let named = target.query(
        "SELECT c.campaign_name FROM tiktok_campaign_daily r JOIN tiktok_campaigns c \
         ON c.advertiser_id = r.advertiser_id AND c.campaign_id = r.campaign_id",
    );
    assert_eq!(named.len(), rows.len(), "every report row has its campaign");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_one_failing_account_does_not_stop_the_others() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    one_failing_account(&env, &sim, &Target::sqlite(&env, "ads.db"));
}

/// A table of another shape is refused with the fix, and left as it was.
fn incompatible_table_is_refused(env: &TestEnv, sim: &Simulator, target: &Target) {
    target.execute(
        "CREATE TABLE tiktok_ad_daily (ad_id TEXT NOT NULL, spend TEXT, PRIMARY KEY (ad_id)); \
         INSERT INTO tiktok_ad_daily VALUES ('1', '9.99')",
    );
    let out = Sync { env, sim, target }.run(&["--advertiser", ADV, "--level", "ad"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("another shape") && err.contains("--table"),
        "{err}"
    );
    let kept = target.query("SELECT ad_id, spend FROM tiktok_ad_daily");
    assert_eq!(kept, vec![vec![Some("1".into()), Some("9.99".into())]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_bad_destinations_are_refused_clearly() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    incompatible_table_is_refused(&env, &sim, &Target::sqlite(&env, "old.db"));

    // A path that cannot be written (through a regular file: tests run as root here).
    std::fs::write(env.work_dir().join("file"), "x").unwrap();
    let unwritable = Target::Sqlite(env.work_dir().join("file/ads.db"));
    let out = run_sync(&env, &sim, &unwritable, &["--advertiser", ADV]);
    assert_fails(&out, 7, "file/ads.db");

    // Another sync holding the database: refused, not interleaved.
    let target = Target::sqlite(&env, "busy.db");
    let lock = std::fs::File::create(env.work_dir().join("busy.db.sync-lock")).unwrap();
    lock.lock().unwrap();
    let out = run_sync(&env, &sim, &target, &["--advertiser", ADV]);
    assert_fails(&out, 5, "another tiktok-ads report sync");
    drop(lock);

    // An entity table of another shape: refused at once, before any account is pulled.
    let entities = Target::sqlite(&env, "entities.db");
    entities.execute("CREATE TABLE tiktok_campaigns (campaign_id TEXT PRIMARY KEY, note TEXT)");
    let out = run_sync(
        &env,
        &sim,
        &entities,
        &["--advertiser", ADV, "--with-entities"],
    );
    assert_fails(&out, 2, "tiktok_campaigns");
    let log = sim.control("GET", "/_mock/requests", "");
    let pulled = log["requests"].as_array().unwrap().iter();
    let campaigns = pulled.filter(|r| {
        r["path"]
            .as_str()
            .unwrap_or_default()
            .contains("/campaign/get")
    });
    assert_eq!(campaigns.count(), 0, "nothing was pulled: {log}");

    // Bad flags cost nothing.
    let out = run_sync(&env, &sim, &target, &["--by", "none"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run_sync(&env, &sim, &target, &["--table", "x; drop"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_explain_and_status_say_where_things_stand() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let target = Target::sqlite(&env, "ads.db");
    let sync = Sync {
        env: &env,
        sim: &sim,
        target: &target,
    };
    // Before any sync: explain plans a first sync and creates nothing.
    let out = sync.run(&["--advertiser", ADV, "--explain", "--since", &days_ago(40)]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("first sync") && plan.contains("2 windows"),
        "{plan}"
    );
    assert!(
        !env.work_dir().join("ads.db").exists(),
        "explain creates nothing"
    );
    let log = sim.control("GET", "/_mock/requests", "");
    assert_eq!(
        log["requests"].as_array().unwrap().len(),
        0,
        "explain calls nothing"
    );

    sync.ok(&["--advertiser", ADV, "--since", &days_ago(4)]);
    let out = sync.run(&["--status", "--format", "json"]);
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status[0]["table"], "tiktok_campaign_daily");
    assert_eq!(status[0]["advertiser_id"], ADV);
    let plan =
        String::from_utf8_lossy(&sync.run(&["--advertiser", ADV, "--explain"]).stdout).to_string();
    assert!(plan.contains("3 days again"), "{plan}");
    // Every account of the token: those in the state are planned, others said to start fresh.
    let out = sync.run(&["--all-advertisers", "--explain"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let plan = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        plan.contains(&format!("  {ADV}  ")) && plan.contains("first sync"),
        "{plan}"
    );
}

// PostgreSQL: the same scenarios against a real server.

#[tokio::test(flavor = "multi_thread")]
async fn postgres_first_sync_rerun_late_attribution_and_new_metric() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start() else {
        return;
    };
    let target = Target::postgres(&server, "ads");
    first_sync_rerun_and_late_attribution(&env, &sim, &target);
    let types = target.query(
        "SELECT data_type::text FROM information_schema.columns WHERE table_name = \
         'tiktok_ad_daily' AND column_name IN ('spend', 'stat_time_day') ORDER BY column_name",
    );
    assert_eq!(
        types,
        vec![vec![Some("numeric".into())], vec![Some("date".into())]]
    );
    new_metric_adds_a_column(&env, &sim, &Target::postgres(&server, "metrics"));
}

/// A re-sync that rewrites every row leaves the primary key alone: each new version goes on
/// its old row's page (a HOT update), which roughly halves what rewriting costs.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_rewritten_rows_are_updated_in_place() {
    let env = TestEnv::new().await;
    // Many pages: on a full page no row can be rewritten in place.
    let sim = Simulator::start(&env, &["--rows", "20000"]);
    let Some(server) = PgServer::start() else {
        return;
    };
    let target = Target::postgres(&server, "rewrites");
    let sync = Sync {
        env: &env,
        sim: &sim,
        target: &target,
    };
    let since = days_ago(30);
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--metrics",
        METRICS,
        "--since",
        &since,
        "--lookback",
        "31",
    ];
    let first = sync.ok(&args);
    let (rows, _, _) = counts(&first, "tiktok_ad_daily");
    assert_eq!(rows, 20000, "{first}");
    assert_eq!(
        target.query(
            "SELECT array_to_string(reloptions, ',') FROM pg_class \
             WHERE relname = 'tiktok_ad_daily'"
        ),
        vec![vec![Some("fillfactor=50".into())]]
    );

    // TikTok restates every day: every row is rewritten.
    sim.control(
        "POST",
        "/_mock/restate",
        &json!({"since": since}).to_string(),
    );
    let again = sync.ok(&args);
    assert_eq!(counts(&again, "tiktok_ad_daily"), (0, rows, 0), "{again}");
    let synced = target.rows("tiktok_ad_daily", "ad_id", &metric_names());
    let last = target.last_days("tiktok_ad_daily")[ADV];
    assert_eq!(
        synced,
        report_run(&env, &sim, ADV, &since, &last.to_string()),
        "row for row what `report run` gives"
    );

    // The server publishes a backend's counts when it ends, a moment after the tool exits.
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = target.query(
            "SELECT n_tup_upd::text, n_tup_hot_upd::text FROM pg_stat_user_tables \
             WHERE relname = 'tiktok_ad_daily'",
        );
        if seen[0][0].as_deref() == Some(rows.to_string().as_str()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let updated = Some(rows.to_string());
    assert_eq!(
        seen,
        vec![vec![updated.clone(), updated]],
        "rows updated, of them in place"
    );
}

/// A window of days is written as two halves at once, over two connections, each half its own
/// transaction committed in day order with its progress: when the later half cannot commit,
/// the earlier one is in with its days recorded, the later one left no row behind, and the
/// next run pulls exactly the missing days.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_window_halves_commit_in_day_order() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start() else {
        return;
    };
    let target = Target::postgres(&server, "halves");
    let start = chrono::Utc::now().date_naive() - chrono::Duration::days(10);
    // Nine or ten days (yesterday depends on the account's time zone): the later half starts
    // on the sixth day either way.
    let later = start + chrono::Duration::days(5);
    target.execute(&format!(
        "CREATE TABLE tiktok_sync_state (table_name TEXT NOT NULL, \
         advertiser_id TEXT NOT NULL, first_day DATE NOT NULL, last_day DATE NOT NULL, \
         synced_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (table_name, advertiser_id)); \
         CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the test refuses days from {later}'; END $$; \
         CREATE TRIGGER refuse_later BEFORE INSERT OR UPDATE ON tiktok_sync_state \
         FOR EACH ROW WHEN (NEW.last_day >= '{later}') EXECUTE FUNCTION refuse();"
    ));
    let sync = Sync {
        env: &env,
        sim: &sim,
        target: &target,
    };
    let since = start.to_string();
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--metrics",
        METRICS,
        "--since",
        &since,
        "--lookback",
        "0",
    ];
    let refused = sync.run(&args);
    let stderr = stderr_of(&refused);
    // The database refused a write: exit 7, and the message says what is in and what is not.
    assert_eq!(refused.status.code(), Some(7), "{stderr}");
    let earlier_end = later - chrono::Duration::days(1);
    assert!(
        stderr.contains(&format!(
            "{since}..{earlier_end} is committed, the window's later days are not"
        )) && stderr.contains("the test refuses days from"),
        "{stderr}"
    );
    assert_eq!(
        target.last_days("tiktok_ad_daily"),
        BTreeMap::from([(ADV.to_string(), earlier_end)]),
        "the earlier half is recorded"
    );
    let synced = target.rows("tiktok_ad_daily", "ad_id", &metric_names());
    assert!(!synced.is_empty());
    assert_eq!(
        synced,
        report_run(&env, &sim, ADV, &since, &earlier_end.to_string()),
        "the earlier half is in, row for row, and nothing of the later one"
    );
    assert_eq!(
        counts(&stderr, "tiktok_ad_daily"),
        (synced.len() as u64, 0, 0),
        "the summary counts what is in"
    );
    assert!(
        stderr.contains("(0 windows committed)")
            && stderr.contains(&format!("{since} to {earlier_end}")),
        "half a window is not a window, its days are covered: {stderr}"
    );

    target.execute("DROP TRIGGER refuse_later ON tiktok_sync_state");
    let resumed = sync.ok(&args);
    let last = target.last_days("tiktok_ad_daily")[ADV];
    assert!(last >= later, "{resumed}");
    let whole = report_run(&env, &sim, ADV, &since, &last.to_string());
    let missing = (whole.len() - synced.len()) as u64;
    assert_eq!(
        counts(&resumed, "tiktok_ad_daily"),
        (missing, 0, 0),
        "only the later days are pulled: {resumed}"
    );
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        whole,
        "no hole, no duplicate"
    );
}

/// A run stopped (SIGTERM) while a window's rows are still arriving rolls the window back
/// without merging what had arrived: the merge is the long part of a re-sync, and a stopped
/// run should stop. A statement trigger counts merges in a sequence, which a rollback does not
/// undo.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_stopped_window_is_dropped_without_merging() {
    let Some(once) = SyncedOnce::start("stopped").await else {
        return;
    };
    let (sim, target) = (&once.sim, &once.target);
    let sync = once.sync();
    let args = every_day_again(&once.since);
    let before = once.before.clone();
    target.execute(
        "CREATE SEQUENCE merges; \
         CREATE FUNCTION count_merge() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM nextval('merges'); RETURN NULL; END $$; \
         CREATE TRIGGER count_merges BEFORE INSERT ON tiktok_ad_daily \
         FOR EACH STATEMENT EXECUTE FUNCTION count_merge();",
    );

    let requests = || sim.control("GET", "/_mock/stats", "")["accepted_total"].as_u64();
    let start = requests().expect("the simulator counts requests");
    let child = start_slow_resync(&sync, &args);
    wait_until("no page was fetched", || {
        (requests().unwrap_or_default() >= start + 4).then_some(())
    });
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().expect("reaped");
    assert_eq!(out.status.code(), Some(143), "{}", stderr_of(&out));
    assert_eq!(
        target.query("SELECT is_called::text FROM merges"),
        vec![vec![Some("false".into())]],
        "no merge ran"
    );
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        before,
        "the table is as it was"
    );
}

/// A connection cut while a window's rows arrive (the server ends one of the sync's two
/// backends): the run fails with the database exit code and says why, the window is not half
/// in, and the next run completes it.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_cut_connection_leaves_no_half_window() {
    let Some(once) = SyncedOnce::start("cut").await else {
        return;
    };
    let (env, sim, target) = (&once.env, &once.sim, &once.target);
    let sync = once.sync();
    let since = &once.since;
    let args = every_day_again(since);
    let before = once.before.clone();
    let state = target.query("SELECT last_day::text, synced_at::text FROM tiktok_sync_state");

    let child = start_slow_resync(&sync, &args);
    // The later half's connection is the one not holding the sync's advisory lock.
    let helper = "SELECT a.pid::text FROM pg_stat_activity a \
         WHERE a.application_name = 'tiktok-ads report sync' AND a.state = 'active' \
         AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory')";
    let pid = wait_until("no second connection was seen", || {
        target.query(helper).first().and_then(|r| r[0].clone())
    });
    target.query(&format!("SELECT pg_terminate_backend({pid})::text"));
    let out = child.wait_with_output().expect("reaped");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains(&format!("of advertiser {ADV} to PostgreSQL")),
        "what was being written is named: {stderr}"
    );
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        before,
        "neither half is in"
    );
    assert_eq!(
        target.query("SELECT last_day::text, synced_at::text FROM tiktok_sync_state"),
        state
    );

    sim.control("POST", "/_mock/faults", r#"{"latency_ms": 0}"#);
    let again = sync.ok(&args);
    let last = target.last_days("tiktok_ad_daily")[ADV];
    let expected = report_run(env, sim, ADV, since, &last.to_string());
    assert_eq!(
        counts(&again, "tiktok_ad_daily"),
        (0, expected.len() as u64, 0),
        "{again}"
    );
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        expected
    );
}

/// A server that allows the sync's user one connection only: the second connection is
/// refused, and the run goes on over the one it has, every row in.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_one_connection_is_enough() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start() else {
        return;
    };
    server.execute(
        "postgres",
        &format!(
            "CREATE ROLE lone LOGIN PASSWORD '{}' CONNECTION LIMIT 1",
            server.password
        ),
    );
    // CREATE DATABASE runs alone (not in a transaction block).
    server.execute("postgres", "CREATE DATABASE lone OWNER lone");
    let target = Target::Postgres {
        url: format!("postgres://lone@127.0.0.1:{}/lone", server.port),
        password: server.password.clone(),
        port: server.port,
        user: "lone".into(),
        db: "lone".into(),
    };
    let since = days_ago(10);
    let args = [
        "--advertiser",
        ADV,
        "--level",
        "ad",
        "--metrics",
        METRICS,
        "--since",
        &since,
    ];
    let summary = Sync {
        env: &env,
        sim: &sim,
        target: &target,
    }
    .ok(&args);
    let last = target.last_days("tiktok_ad_daily")[ADV];
    let expected = report_run(&env, &sim, ADV, &since, &last.to_string());
    assert_eq!(
        counts(&summary, "tiktok_ad_daily"),
        (expected.len() as u64, 0, 0),
        "{summary}"
    );
    assert_eq!(
        target.rows("tiktok_ad_daily", "ad_id", &metric_names()),
        expected
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_killed_run_resumes_and_failing_account_catches_up() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start() else {
        return;
    };
    killed_then_resumed(
        &env,
        &sim,
        &Target::postgres(&server, "killed"),
        &Target::postgres(&server, "clean"),
    );
    one_failing_account(&env, &sim, &Target::postgres(&server, "accounts"));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_bad_input_is_refused_without_secrets() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start() else {
        return;
    };
    incompatible_table_is_refused(&env, &sim, &Target::postgres(&server, "old"));

    // Wrong password: the database exit code, a clear message, no password in it.
    let wrong = "not-the-password-0451";
    let out = sync_to(&env, &sim, &server.url("postgres"), Some(wrong));
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(wrong));
    // In the URL: shown masked.
    let url = server
        .url("postgres")
        .replace("tiktok@", &format!("tiktok:{wrong}@"));
    let out = sync_to(&env, &sim, &url, None);
    assert_eq!(out.status.code(), Some(7));
    let err = stderr_of(&out);
    assert!(!err.contains(wrong) && err.contains("tiktok:***@"), "{err}");
    assert!(
        err.contains("PGPASSWORD or ~/.pgpass"),
        "a password in the URL is warned about: {err}"
    );

    // Unreachable: nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://tiktok@127.0.0.1:{port}/ads");
    let out = sync_to(&env, &sim, &url, Some(wrong));
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("cannot connect") && !err.contains(wrong),
        "{err}"
    );

    // TLS required, none offered (this server has no TLS): refused, with what to change.
    let url = format!("{}?sslmode=require", server.url("postgres"));
    let out = sync_to(&env, &sim, &url, Some(&server.password));
    assert_fails(&out, 7, "offers none");

    // Another sync holding the database (its advisory lock): refused with exit 5.
    let busy = Target::postgres(&server, "busy");
    let held = {
        let config = server.config("busy");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let mut client = config.connect(postgres::NoTls).expect("the test connects");
            client
                .execute("SELECT pg_advisory_lock(127996123180907)", &[])
                .expect("the lock is taken");
            locked_tx.send(()).unwrap();
            let _ = rx.recv();
        });
        locked_rx.recv().unwrap();
        (tx, holder)
    };
    let out = run_sync(&env, &sim, &busy, &["--advertiser", ADV]);
    assert_fails(&out, 5, "another tiktok-ads report sync");
    drop(held.0);
    held.1.join().unwrap();
    Sync {
        env: &env,
        sim: &sim,
        target: &busy,
    }
    .ok(&["--advertiser", ADV, "--since", &days_ago(2)]);

    // ~/.pgpass (owner-only) gives the password when the URL and PGPASSWORD do not.
    let pgpass = env.dir.path().join("home/.pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:tiktok:{}\n", server.port, server.password),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let target = Target::postgres(&server, "pgpass");
    let out = sync_to(&env, &sim, &target.destination(), None);
    assert!(out.status.success(), "{}", stderr_of(&out));
    // Readable by others, it is ignored (as libpq does): no password, so no connection.
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = sync_to(&env, &sim, &target.destination(), None);
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("chmod 600"), "{}", stderr_of(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_certificates_are_checked_and_never_skipped_silently() {
    let env = TestEnv::new().await;
    let sim = Simulator::start(&env, &[]);
    let Some(server) = PgServer::start_with_untrusted_tls() else {
        return;
    };
    // The server offers TLS with a certificate nobody here trusts: no connection (so no
    // password sent to it), and a message saying what to do.
    let url = server.database("tls");
    let out = sync_to(&env, &sim, &url, Some(&server.password));
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("certificate is not trusted") && err.contains("sslmode=disable"),
        "{err}"
    );
    // Said explicitly, a plain connection on a trusted network works.
    let out = sync_to(
        &env,
        &sim,
        &format!("{url}?sslmode=disable"),
        Some(&server.password),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
}
