//! A real PostgreSQL server for a test: `initdb` on a temporary directory (password
//! authentication, a random password made here), `pg_ctl start` on a free loopback port,
//! stopped and removed when dropped. Run as root (CI containers), the server runs as the
//! `postgres` user, as PostgreSQL refuses root. Without PostgreSQL installed the tests that
//! need it pass with a loud note, unless TIKTOK_ADS_REQUIRE_POSTGRES=1 (CI, `tests/run-all.sh`
//! where it could install it) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    runas: Option<String>,
    pub port: u16,
    pub user: String,
    pub password: String,
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("TIKTOK_ADS_PG_BIN") {
        return Some(PathBuf::from(path));
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(initdb) = on_path.filter(|p| !p.is_empty()) {
        return Path::new(&initdb).parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().filter(|p| p.join("initdb").exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PgServer {
    /// A running server, or `None` (with a note) when PostgreSQL is not installed and not
    /// required.
    pub(crate) fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// A server that offers TLS with a self-signed certificate no client here trusts.
    pub(crate) fn start_with_untrusted_tls() -> Option<Self> {
        Self::start_with(true)
    }

    // A skipped test says so where the test's output goes.
    #[allow(clippy::print_stderr)]
    fn start_with(tls: bool) -> Option<Self> {
        let Some(bin) = find_bin() else {
            assert!(
                std::env::var("TIKTOK_ADS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL's initdb is needed (Debian: apt-get install postgresql; or set \
                 TIKTOK_ADS_PG_BIN to its bin directory)"
            );
            eprintln!("SKIPPED: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let root = is_root();
        let runas = root.then(|| "postgres".to_string());
        if let Some(user) = &runas {
            let uid = id_of(user, "-u");
            let gid = id_of(user, "-g");
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let password: String = (0..24)
            .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
            .collect();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, format!("{password}\n")).expect("password file");
        if let Some(user) = &runas {
            std::os::unix::fs::chown(&pwfile, Some(id_of(user, "-u")), None).expect("chown");
        }
        let server = Self {
            bin,
            runas,
            port: free_port(),
            user: "tiktok".into(),
            password,
            dir,
        };
        let data = server.dir.path().join("data");
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "tiktok",
                "--auth=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            server.port,
            server.dir.path().display()
        );
        if tls {
            let (cert, key) = (
                server.dir.path().join("cert.pem"),
                server.dir.path().join("key.pem"),
            );
            let made = Command::new("openssl")
                .args([
                    "req",
                    "-new",
                    "-x509",
                    "-days",
                    "2",
                    "-nodes",
                    "-subj",
                    "/CN=127.0.0.1",
                ])
                .arg("-out")
                .arg(&cert)
                .arg("-keyout")
                .arg(&key)
                .output()
                .expect("openssl makes a certificate");
            assert!(
                made.status.success(),
                "{}",
                String::from_utf8_lossy(&made.stderr)
            );
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod");
            if let Some(user) = &server.runas {
                for file in [&cert, &key] {
                    std::os::unix::fs::chown(file, Some(id_of(user, "-u")), None).expect("chown");
                }
            }
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                key.display()
            ));
        }
        let log = server.dir.path().join("log");
        server.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        Some(server)
    }

    /// One of PostgreSQL's programs, as the user the server runs as.
    fn program(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        match &self.runas {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut command = self.program(program);
        let output = command
            .args(args)
            .env_remove("PGPASSWORD")
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A new database of this server, with no password in it (it goes in PGPASSWORD).
    pub(crate) fn database(&self, name: &str) -> String {
        // The driver blocks on a runtime of its own: not on a thread of the test's runtime.
        self.execute("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }

    /// Runs statements in `database` (on a thread of its own: never one of a runtime's).
    pub(crate) fn execute(&self, database: &str, sql: &str) {
        let config = self.config(database);
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let mut client = config.connect(postgres::NoTls).expect("the test connects");
            client.batch_execute(&sql).expect("the statements run");
        })
        .join()
        .expect("statement thread");
    }

    pub(crate) fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }

    /// How the test itself connects.
    pub(crate) fn config(&self, database: &str) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(database);
        config
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut command = self.program("pg_ctl");
        let _ = command
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn id_of(user: &str, flag: &str) -> u32 {
    let output = Command::new("id")
        .args([flag, user])
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("user {user} exists (PostgreSQL refuses to run as root)"))
}
