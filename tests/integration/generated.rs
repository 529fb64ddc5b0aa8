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

/// What bash offers for the words typed so far (the last one being completed), with the
/// generated script loaded as a shell would load it.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\n\
         COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n\
         _tiktok__ads tiktok-ads \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" ")
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &program])
        .output()
        .expect("bash runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn bash_completes_subcommands_flags_and_values_but_not_hidden_flags() {
    let script = generated(&["completions", "bash"]).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &script).unwrap();
    let offered = |words: &[&str]| bash_completes(file.path(), words);
    let report = offered(&["tiktok-ads", "report", ""]);
    for sub in ["run", "sync", "task"] {
        assert!(report.iter().any(|w| w == sub), "{sub}: {report:?}");
    }
    assert_eq!(
        offered(&["tiktok-ads", "report", "run", "--le"]),
        ["--level"]
    );
    assert_eq!(
        offered(&["tiktok-ads", "report", "run", "--level", ""]),
        ["advertiser", "campaign", "adgroup", "ad"]
    );
    assert_eq!(offered(&["tiktok-ads", "--retry"]), ["--retry-for"]);
    assert!(!script.contains("--retry-base-ms") && !script.contains("--poll-ms"));
}

#[tokio::test]
async fn fish_completes_subcommands_and_flags_where_installed() {
    let script = generated(&["completions", "fish"]).await;
    if std::process::Command::new("fish")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("TIKTOK_ADS_REQUIRE_SHELLS").is_err(),
            "fish is required here (TIKTOK_ADS_REQUIRE_SHELLS) but not installed"
        );
        return;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &script).unwrap();
    let offered = |line: &str| -> Vec<String> {
        let program = format!("source '{}'; complete -C '{line}'", file.path().display());
        let out = std::process::Command::new("fish")
            .args(["--no-config", "-c", &program])
            .output()
            .expect("fish runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect()
    };
    let report = offered("tiktok-ads report ");
    for sub in ["run", "sync", "task"] {
        assert!(report.iter().any(|w| w == sub), "{sub}: {report:?}");
    }
    assert!(offered("tiktok-ads report run --le").contains(&"--level".to_string()));
    assert!(!offered("tiktok-ads --retry").contains(&"--retry-base-ms".to_string()));
}
