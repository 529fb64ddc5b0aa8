//! What a new user met in the first hour (issue 19): a dead host said at once, messages that
//! are true about what was written, tokens that stay with the host that issued them,
//! completions that complete, dry runs that check what the real command checks.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_output_file_that_cannot_be_written_is_refused_before_any_request() {
    let env = TestEnv::with_account().await;
    for (target, says) in [
        (
            "nosuchdir/out.csv",
            "the directory nosuchdir does not exist",
        ),
        (".", "that is a directory"),
    ] {
        let out = env
            .cmd()
            .args(["--advertiser", ADV_US, "-o", target])
            .args(["report", "run", "--last", "7"])
            .output()
            .unwrap();
        assert_fails(&out, 2, says);
        assert_eq!(stdout_of(&out), "");
    }
    let out = env
        .cmd()
        .args(["-o", "nosuchdir/c.bash", "completions", "bash"])
        .output()
        .unwrap();
    assert_fails(&out, 2, "does not exist");
    assert!(
        env.requests_to("/report/integrated/get/").await.is_empty()
            && env.requests_to("/advertiser/info/").await.is_empty(),
        "nothing was asked of TikTok"
    );
}
