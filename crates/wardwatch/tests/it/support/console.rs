//! A console client for the JSON API with its own runtime: requests as a user whose
//! session cookie is given, answers as (status, JSON).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{console_client, wait_for, TestServer};
use super::vulnfleet::console_login;

pub struct Console {
    pub rt: tokio::runtime::Runtime,
    pub client: reqwest::Client,
    pub base: String,
}

impl Console {
    /// A client of this server's console that trusts its CA and sends its `Origin`.
    pub fn new(server: &TestServer) -> Console {
        Console {
            rt: tokio::runtime::Runtime::new().unwrap(),
            client: console_client(server),
            base: server.console_url.clone(),
        }
    }

    /// Logs in; the session cookie, or the status and body of a refusal.
    pub fn login(
        &self,
        server: &TestServer,
        user: &str,
        password: &str,
    ) -> Result<String, (u16, String)> {
        console_login(&self.rt, &self.client, server, user, password)
    }

    /// Logs in as the first admin and returns the session cookie.
    pub fn admin(&self, server: &TestServer) -> String {
        let password = server.admin_password.clone().expect("first admin password");
        self.login(server, "admin", &password)
            .expect("admin logs in")
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        cookie: &str,
    ) -> (u16, Value) {
        self.rt.block_on(async {
            let mut request = self
                .client
                .request(method, format!("{}{path}", self.base))
                .header("cookie", cookie);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("console answers");
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(Value::Null);
            (status, body)
        })
    }

    /// A GET that must answer 200.
    pub fn get(&self, path: &str, cookie: &str) -> Value {
        let (status, body) = self.request(Method::GET, path, None, cookie);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Queues a command for a terminal as the user of `cookie` and returns its id.
    pub fn command(&self, host: &str, cookie: &str, kind: &str, args: Value) -> i64 {
        let (status, body) = self.request(
            Method::POST,
            &format!("/api/hosts/{host}/commands"),
            Some(json!({ "kind": kind, "args": args })),
            cookie,
        );
        assert_eq!(status, 200, "{body}");
        body["command"]["id"].as_i64().expect("command id")
    }

    /// Waits until the command is finished (the agent asks every 10 s) and returns it.
    pub fn finished(&self, host: &str, cookie: &str, id: i64) -> Value {
        const WAIT: Duration = Duration::from_secs(60);
        wait_for(WAIT, || {
            let list = self.get(&format!("/api/hosts/{host}/commands"), cookie);
            let found = list["commands"]
                .as_array()?
                .iter()
                .find(|c| c["id"] == id)?
                .clone();
            if found["done_at"].is_null() {
                std::thread::sleep(Duration::from_millis(300));
                return None;
            }
            Some(found)
        })
        .unwrap_or_else(|| panic!("command {id} was not finished within {WAIT:?}"))
    }
}
