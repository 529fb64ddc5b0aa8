//! `api METHOD PATH`: any endpoint, with the token, base URL, pacing and retries of the core.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::{Map, Value};

use super::body;
use super::context::Context;
use super::errors::usage;
use crate::api::{Auth, Method, Request, Target};
use crate::api::{Query, Replay};
use crate::output::{Format, FormatChoice};
use futures_util::TryStreamExt;

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET or POST.
    pub method: String,
    /// Endpoint path under /open_api/v1.3, with its slashes: e.g. /bc/get/.
    pub path: String,
    /// A string parameter KEY=VALUE (repeatable).
    #[arg(short = 'f', long = "raw-field", value_name = "KEY=VALUE")]
    pub raw_fields: Vec<String>,
    /// A typed parameter KEY=VALUE: numbers, true/false, null, JSON arrays/objects, @FILE.
    #[arg(short = 'F', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// JSON body of a POST from FILE (`-` for stdin); fields are merged over it.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Walk every page (`page`/`page_info`) and print each item of `data.list`.
    #[arg(long)]
    pub paginate: bool,
    /// Print the response body exactly as received.
    #[arg(long, conflicts_with = "paginate")]
    pub raw: bool,
}

pub(crate) async fn run(ctx: &Context, args: ApiArgs) -> Result<()> {
    let method = match args.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => {
            return Err(usage(format!(
                "method {other:?} is not supported: use GET or POST"
            )));
        }
    };
    let path = check_path(&args.path)?;
    let mut params = body::BodyArgs {
        from_file: args.input.clone(),
        dry_run: false,
    }
    .load(&ctx.streams)?;
    if args.input.is_some() && method == Method::Get {
        return Err(usage(
            "--input is for POST bodies; give GET parameters with -f/-F",
        ));
    }
    for text in &args.raw_fields {
        let (key, value) = split_field(text)?;
        params.insert(key, Value::String(value.to_string()));
    }
    for text in &args.fields {
        let (key, value) = split_field(text)?;
        params.insert(key, typed_value(value)?);
    }
    let (client, _) = ctx.authed_client().await?;
    if args.paginate {
        if method != Method::Get {
            return Err(usage("--paginate walks GET list endpoints"));
        }
        return paginate(ctx, &client, &path, params).await;
    }
    let (query, post_body) = if method == Method::Get {
        (Some(to_query(&params)), None)
    } else {
        (None, Some(Value::Object(params)))
    };
    let request = Request {
        method,
        target: Target::Endpoint(&path),
        query: query.as_ref(),
        body: post_body.as_ref(),
        form: None,
        auth: Auth::Token,
        // A POST may create something: it is not re-sent blindly after a lost answer.
        replay: if method == Method::Get {
            Replay::Safe
        } else {
            Replay::Unsafe
        },
    };
    let response = client.call_raw(&request).await?;
    let mut out = ctx.destination()?;
    if args.raw {
        out.write_all(&response.body)?;
    } else {
        let data: Value = response.envelope.data(&path)?;
        serde_json::to_writer_pretty(&mut out, &data)?;
        writeln!(out)?;
    }
    out.commit()
}

/// Paths are relative to the API prefix and keep TikTok's slashes: segments of letters,
/// digits, `_` and `-` only, so nothing can turn the path into another host, scheme or a `..`
/// escape (the token goes with the request).
fn check_path(path: &str) -> Result<String> {
    let path = path.trim();
    let path = path.strip_prefix("/open_api/v1.3").unwrap_or(path);
    let segments_ok = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .is_some_and(|inner| {
            !inner.is_empty()
                && inner.split('/').all(|segment| {
                    !segment.is_empty()
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                })
        });
    if !segments_ok {
        return Err(usage(format!(
            "{path:?} is not an endpoint path: give the path alone, starting and ending with a slash, \
             made of letters, digits, _ and - (e.g. /campaign/get/); the host comes from --base-url / \
             --sandbox and parameters from -f/-F"
        )));
    }
    Ok(path.to_string())
}

fn split_field(text: &str) -> Result<(String, &str)> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value)),
        _ => Err(usage(format!("{text:?} is not KEY=VALUE"))),
    }
}

/// `-F` values: JSON scalars, arrays and objects as JSON; `@FILE` reads the value from a file
/// (as JSON when it parses, else as text); anything else is a string.
fn typed_value(text: &str) -> Result<Value> {
    if let Some(file) = text.strip_prefix('@') {
        let content =
            std::fs::read_to_string(file).map_err(|e| usage(format!("cannot read {file}: {e}")))?;
        let trimmed = content.trim_end_matches(['\n', '\r']);
        return Ok(
            serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.to_string()))
        );
    }
    let looks_json = text.starts_with('[') || text.starts_with('{');
    match serde_json::from_str::<Value>(text) {
        Ok(
            value @ (Value::Number(_)
            | Value::Bool(_)
            | Value::Null
            | Value::Array(_)
            | Value::Object(_)),
        ) => Ok(value),
        Err(e) if looks_json => Err(usage(format!("{text:?} is not valid JSON: {e}"))),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// GET parameters: scalars plain, arrays and objects JSON-encoded.
fn to_query(params: &Map<String, Value>) -> Query {
    params
        .iter()
        .fold(Query::new(), |q, (key, value)| match value {
            Value::String(s) => q.param(key, s),
            Value::Array(_) | Value::Object(_) => q.json(key, value),
            other => q.param(key, other),
        })
}

async fn paginate(
    ctx: &Context,
    client: &crate::api::Client,
    path: &str,
    mut params: Map<String, Value>,
) -> Result<()> {
    let format = match ctx.settings.global.format {
        FormatChoice::Auto if ctx.settings.output_file().is_none() => Format::Ndjson,
        _ => ctx.format()?,
    };
    // Paging is the pager's: from page 1, at the size asked for (else the server's default).
    params.remove("page");
    let page_size = params
        .remove("page_size")
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .and_then(|n| u32::try_from(n).ok());
    let pages = client.pages::<Value>(path, to_query(&params), page_size);
    futures_util::pin_mut!(pages);
    let mut writer: Option<crate::output::RecordWriter> = None;
    while let Some(page) = pages.try_next().await? {
        for item in page.list {
            let record = match item {
                Value::Object(map) => map,
                other => Map::from_iter([("value".to_string(), other)]),
            };
            if writer.is_none() {
                let columns = match format {
                    Format::Json | Format::Ndjson => Vec::new(),
                    _ => record.keys().cloned().collect(),
                };
                writer = Some(crate::output::RecordWriter::new(
                    format,
                    columns,
                    ctx.destination()?,
                )?);
            }
            if let Some(w) = writer.as_mut() {
                w.write(&record)?;
            }
        }
        if let Some(w) = writer.as_mut() {
            w.flush()?;
        }
    }
    let writer = match writer {
        Some(w) => w,
        None => crate::output::RecordWriter::new(format, Vec::new(), ctx.destination()?)?,
    };
    ctx.finish(writer).context("writing the items")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_keep_their_slashes_and_have_no_host() {
        assert_eq!(check_path("/bc/get/").unwrap(), "/bc/get/");
        assert_eq!(check_path("/open_api/v1.3/bc/get/").unwrap(), "/bc/get/");
        assert!(check_path("bc/get/").is_err());
        assert!(check_path("/bc/get").is_err());
        assert!(check_path("https://business-api.tiktok.com/open_api/v1.3/bc/get/").is_err());
        assert!(check_path("/bc/get/?page=2").is_err());
        for hostile in [
            "/\\/127.0.0.2:9/steal/",
            "//127.0.0.2:9/steal/",
            "/bc/../../steal/",
            "/bc/%2e%2e/get/",
            "/bc/get/#x/",
            "/a@b/",
            "/ /",
        ] {
            assert!(check_path(hostile).is_err(), "{hostile}");
        }
        assert_eq!(
            check_path("/tt_user/oauth2/token/").unwrap(),
            "/tt_user/oauth2/token/"
        );
    }

    #[test]
    fn typed_fields() {
        assert_eq!(typed_value("50").unwrap(), json!(50));
        assert_eq!(typed_value("true").unwrap(), json!(true));
        assert_eq!(typed_value(r#"["a","b"]"#).unwrap(), json!(["a", "b"]));
        assert_eq!(
            typed_value("7301234567890123456").unwrap(),
            json!(7301234567890123456u64)
        );
        assert_eq!(typed_value("hello").unwrap(), json!("hello"));
        assert!(typed_value("[broken").is_err());
    }
}
