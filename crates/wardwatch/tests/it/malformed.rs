//! Hostile and broken requests to the agent API get a 4xx with a message, store
//! nothing, and leave the server serving.

use crate::support::harness::*;

struct Fixture {
    _tmp: tempfile::TempDir,
    server: TestServer,
    host_id: String,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&tmp.path().join("server"), 0, 0);
    let state = tmp.path().join("agent");
    let host_id = server.enrolled_agent(&state);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = {
        let _guard = rt.enter();
        agent_http(&state, true)
    };
    Fixture {
        _tmp: tmp,
        server,
        host_id,
        client,
        rt,
    }
}

impl Fixture {
    /// Posts a raw body to the events endpoint: (status, error message).
    fn post(&self, body: Vec<u8>, encoding: Option<&str>) -> (u16, String) {
        let mut request = self
            .client
            .post(format!("{}/api/v1/events", self.server.agent_url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(e) = encoding {
            request = request.header("content-encoding", e);
        }
        self.rt.block_on(async {
            let response = request.send().await.expect("server answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or(text);
            (status, message)
        })
    }

    fn post_json(&self, value: serde_json::Value) -> (u16, String) {
        let json = serde_json::to_vec(&value).unwrap();
        self.post(zstd::bulk::compress(&json, 3).unwrap(), Some("zstd"))
    }

    fn stored(&self) -> i64 {
        self.server
            .db()
            .query_row(
                "SELECT COUNT(*) FROM events WHERE host_id = ?1",
                [&self.host_id],
                |r| r.get(0),
            )
            .unwrap()
    }
}

fn test_event(seq: u64) -> serde_json::Value {
    serde_json::json!({"seq": seq, "time": 1, "kind": "test", "data": {"note": "x"}})
}

#[test]
fn malformed_batches_are_refused_with_a_message_and_store_nothing() {
    let f = fixture();

    let (status, message) = f.post(b"{\"protocol\": 1, \"events\": [".to_vec(), None);
    assert_eq!(status, 400);
    assert!(message.starts_with("malformed batch"), "{message}");

    // Wrong type deep inside: the message names the path. The good first event of
    // the same batch must not be stored either.
    let (status, message) = f.post_json(serde_json::json!({
        "protocol": 1,
        "events": [test_event(1), {"seq": "two", "time": 1, "kind": "test", "data": {"note": "x"}}]
    }));
    assert_eq!(status, 400);
    assert!(message.contains("events[1].seq"), "{message}");
    assert!(message.contains("invalid type"), "{message}");
    assert_eq!(f.stored(), 0, "nothing of a refused batch is stored");

    let (status, message) = f.post_json(serde_json::json!({
        "protocol": 1,
        "events": [{"seq": 1, "time": 1, "kind": "no_such_kind", "data": {}}]
    }));
    assert_eq!(status, 400);
    assert!(message.contains("events[0]"), "{message}");

    let (status, message) = f.post_json(serde_json::json!({"protocol": 7, "events": []}));
    assert_eq!(status, 400);
    assert!(
        message.contains("unsupported protocol version 7"),
        "{message}"
    );
    assert!(message.contains("speaks version 1"), "{message}");

    let (status, message) = f.post_json(serde_json::json!({"events": []}));
    assert_eq!(status, 400);
    assert!(message.contains("`protocol` is missing"), "{message}");

    let (status, message) =
        f.post_json(serde_json::json!({"protocol": 1, "events": [test_event(0)]}));
    assert_eq!(status, 400);
    assert!(message.contains("start at 1"), "{message}");

    let (status, message) = f.post(b"not zstd at all".to_vec(), Some("zstd"));
    assert_eq!(status, 400);
    assert!(message.contains("zstd"), "{message}");

    let (status, message) = f.post(b"{}".to_vec(), Some("br"));
    assert_eq!(status, 415);
    assert!(message.contains("Content-Encoding"), "{message}");

    assert_eq!(f.stored(), 0);
}

#[test]
fn oversized_bodies_and_decompression_bombs_are_refused() {
    let f = fixture();

    // Over the compressed limit.
    let big = vec![b' '; wardwatch_proto::MAX_BATCH_COMPRESSED_BYTES + 1024];
    let (status, message) = f.post(big, None);
    assert_eq!(status, 413);
    assert!(message.contains("larger than the limit"), "{message}");

    // A small body that inflates past the decompressed limit.
    let bomb_source = vec![b' '; wardwatch_proto::MAX_BATCH_DECOMPRESSED_BYTES + 4096];
    let bomb = zstd::bulk::compress(&bomb_source, 19).unwrap();
    assert!(bomb.len() < 1024 * 1024);
    let (status, message) = f.post(bomb, Some("zstd"));
    assert_eq!(status, 413);
    assert!(message.contains("decompresses to more than"), "{message}");

    // Too many events in one batch.
    let events: Vec<_> = (1..=(wardwatch_proto::MAX_BATCH_EVENTS as u64 + 1))
        .map(test_event)
        .collect();
    let (status, message) = f.post_json(serde_json::json!({"protocol": 1, "events": events}));
    assert_eq!(status, 413);
    assert!(message.contains("limit is"), "{message}");
    assert_eq!(f.stored(), 0);
}

#[test]
fn the_server_keeps_serving_after_hostile_requests_and_duplicates_are_stored_once() {
    let f = fixture();
    for _ in 0..20 {
        let (status, _) = f.post(b"\x00\xff garbage".to_vec(), None);
        assert_eq!(status, 400);
    }
    let batch = serde_json::json!({"protocol": 1, "events": [test_event(1), test_event(2)]});
    let (status, _) = f.post_json(batch.clone());
    assert_eq!(status, 200);
    // A resend (lost acknowledgement) is acknowledged again and stored once.
    let json = serde_json::to_vec(&batch).unwrap();
    let response = f.rt.block_on(async {
        f.client
            .post(format!("{}/api/v1/events", f.server.agent_url))
            .header("content-type", "application/json")
            .body(json)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    });
    assert_eq!(response["stored"], 0);
    assert_eq!(response["duplicates"], 2);
    assert_eq!(response["highest_seq"], 2);
    assert_eq!(f.stored(), 2);

    // Unknown endpoints answer in the same JSON shape.
    let (status, message) = f.rt.block_on(async {
        let r = f
            .client
            .get(format!("{}/api/v1/nothing", f.server.agent_url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 404);
    assert!(message.contains("no such endpoint"), "{message}");
}
