//! Completions and the man page are generated from the CLI definition at run time; snapshots
//! catch any unintended change, and the bash script must parse.

use crate::support::*;

async fn generated(args: &[&str]) -> String {
    let env = TestEnv::new().await;
    let out = env.cmd().args(args).assert().success();
    // Neither needs a token, a config file or the keyring.
    assert!(env.server.received_requests().await.unwrap().is_empty());
    assert!(!env.credentials_file().exists());
    stdout_of(out.get_output())
}

#[tokio::test]
async fn bash_completion() {
    let script = generated(&["completions", "bash"]).await;
    insta::assert_snapshot!(script);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(file.path())
        .status()
        .unwrap();
    assert!(check.success(), "bash -n rejects the completion script");
}

#[tokio::test]
async fn zsh_completion() {
    insta::assert_snapshot!(generated(&["completions", "zsh"]).await);
}

#[tokio::test]
async fn fish_completion() {
    insta::assert_snapshot!(generated(&["completions", "fish"]).await);
}

#[tokio::test]
async fn powershell_completion() {
    insta::assert_snapshot!(generated(&["completions", "powershell"]).await);
}

#[tokio::test]
async fn man_page() {
    let page = generated(&["man"]).await;
    assert!(page.contains(".TH tiktok-ads 1"));
    insta::assert_snapshot!(page);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_man_page_a_page_refers_to_is_written() {
    let env = TestEnv::new().await;
    let dir = env.dir.path().join("man1");
    env.cmd()
        .args(["man", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(pages.contains(&"tiktok-ads.1".to_string()));
    assert!(pages.contains(&"tiktok-ads-report-run.1".to_string()));
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        for reference in text
            .split_whitespace()
            .filter(|w| w.starts_with("tiktok\\-ads") && w.ends_with("(1)"))
        {
            let file = format!(
                "{}.1",
                reference.trim_end_matches("(1)").replace("\\-", "-")
            );
            assert!(
                pages.contains(&file),
                "{page} refers to {reference}, which is not written"
            );
        }
    }
}
