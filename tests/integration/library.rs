//! The library without the binary: what `report sync` does, called directly — the simulator
//! in-process, the typed client, the report layer's incremental sync and the warehouse as its
//! target — so the layers can be used (and tested) apart from the command line.

use rusqlite::Connection;
use tiktok_ads::api::{Client, ClientOptions};
use tiktok_ads::mock::{Mock, MockOptions};
use tiktok_ads::report::PlanRequest;
use tiktok_ads::report::incremental::{self, SyncOptions};
use tiktok_ads::report::observer::Silent;
use tiktok_ads::report::plan::Level;
use tiktok_ads::warehouse::sink::Committed;
use tiktok_ads::warehouse::target::SyncInto;
use tiktok_ads::warehouse::{Destination, TableShape};

/// One sync of `advertiser`'s ad-level daily report into `destination`, as `report sync`
/// would run it; what was committed.
async fn sync_once(client: &Client, destination: &Destination, advertiser: &str) -> Committed {
    let request = PlanRequest {
        level: Level::Ad,
        metrics: vec!["spend".into(), "impressions".into()],
        include_deleted: true,
        ..PlanRequest::default()
    };
    let plan = incremental::plan(&request).expect("a daily ad report plans");
    let shape = TableShape::for_report(&plan, None).expect("its table has a name");
    let target = {
        let destination = destination.clone();
        tokio::task::spawn_blocking(move || SyncInto::open(&destination, shape, true))
            .await
            .expect("the open ran")
            .expect("the database opens")
    };
    let committed = target.committed();
    let options = SyncOptions {
        since: Some(chrono::Utc::now().date_naive() - chrono::Duration::days(10)),
        lookback: 3,
        with_entities: true,
        include_deleted: true,
        concurrency: 4,
    };
    let advertisers = vec![advertiser.to_string()];
    incremental::run(client, &plan, &options, &advertisers, target, &Silent)
        .await
        .expect("the sync completes");
    committed.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_syncs_from_the_simulator_into_sqlite_through_the_library() {
    let mock = Mock::new(MockOptions::default()).unwrap();
    let accounts = mock.accounts();
    let advertiser = accounts[0].as_str();
    let token = mock.startup_token().to_string();
    let (listener, addr) = Mock::bind(0).await.unwrap();
    let server = tokio::spawn(mock.serve(listener));
    let mut options = ClientOptions::new(format!("http://{addr}").parse().unwrap());
    options.token = Some(token.into());
    let client = Client::new(options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ads.db");
    let destination = Destination::Sqlite(path.clone());

    let first = sync_once(&client, &destination, advertiser).await;
    let db = Connection::open(&path).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let rows = count("SELECT count(*) FROM tiktok_ad_daily");
    assert!(rows > 0, "the simulator's rows are in the table");
    assert_eq!(
        first.counts.inserted, rows as u64,
        "every row inserted once"
    );
    assert_eq!(first.days.len(), 1, "one advertiser's days committed");
    assert_eq!(
        count("SELECT count(DISTINCT stat_time_day) FROM tiktok_ad_daily"),
        (first.days[advertiser].1 - first.days[advertiser].0).num_days() + 1,
        "every day from --since to yesterday"
    );
    let (state_advertiser, first_day): (String, String) = db
        .query_row(
            "SELECT advertiser_id, first_day FROM tiktok_sync_state WHERE table_name = 'tiktok_ad_daily'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state_advertiser, advertiser);
    assert_eq!(first_day, first.days[advertiser].0.to_string());
    assert!(
        count("SELECT count(*) FROM tiktok_ads") > 0,
        "the entity snapshot is kept"
    );
    assert!(first.entities.contains_key("tiktok_campaigns"));

    // A second run pulls only the lookback days again: nothing new, nothing doubled.
    let second = sync_once(&client, &destination, advertiser).await;
    assert_eq!(second.counts.inserted, 0);
    assert_eq!(second.counts.updated, 0);
    assert!(
        second.counts.unchanged > 0,
        "the lookback days were pulled again"
    );
    assert_eq!(count("SELECT count(*) FROM tiktok_ad_daily"), rows);
    server.abort();
}
