//! A project with three collections, one per RLS mode, and the identities of the authorization
//! table: anonymous, alice and bob (publishable key + user token), the secret key, and a second
//! project with its own keys and users.

use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

use urbackend_tests::{Backend, Lane, MongoServer, Server, TempDir, cli};

/// A project's credentials.
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) pk: String,
    pub(crate) sk: String,
    pub(crate) jwt_secret: String,
}

impl Project {
    pub(crate) fn create(backend: &Backend, name: &str) -> Project {
        Project::create_with(backend, name, &[])
    }

    /// A project created with extra flags (`--no-users`).
    pub(crate) fn create_with(backend: &Backend, name: &str, flags: &[&str]) -> Project {
        let mut args = vec!["project", "create", name];
        args.extend_from_slice(flags);
        let out = cli(backend, &args);
        let text = |k: &str| out[k].as_str().unwrap_or_else(|| panic!("{k} missing in {out}")).to_owned();
        Project {
            id: text("projectId"),
            pk: text("publishableKey"),
            sk: text("secretKey"),
            jwt_secret: text("jwtSecret"),
        }
    }

    /// Creates or replaces a collection through the command line.
    pub(crate) fn put_collection(&self, backend: &Backend, dir: &TempDir, definition: &Value) {
        let file = dir.path().join(format!("collection-{}.json", definition["name"].as_str().unwrap_or("c")));
        std::fs::write(&file, definition.to_string()).expect("writing the definition");
        cli(backend, &["collection", "put", "--project", &self.id, "--file", &file.display().to_string()]);
    }
}

/// Where a test's servers keep their state: the embedded store in `dir`, or a database of its
/// own on MongoDB (the returned server must live as long as the test).
pub(crate) fn backend(dir: &TempDir, label: &str, lane: Lane) -> (Backend, Option<MongoServer>) {
    match lane {
        Lane::Embedded => (Backend::Embedded(dir.path().join("data")), None),
        Lane::Mongo => {
            let mongo = MongoServer::start();
            let database = format!("bb_{label}_{}_{}", std::process::id(), unique());
            (Backend::Mongo(mongo.database_uri(&database)), Some(mongo))
        }
    }
}

fn unique() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The world of the authorization table.
pub(crate) struct World {
    pub(crate) server: Server,
    pub(crate) mongo: Option<MongoServer>,
    pub(crate) dir: TempDir,
    pub(crate) backend: Backend,
    pub(crate) a: Project,
    pub(crate) b: Project,
    /// alice and bob of project A, signed up and logged in over HTTP.
    pub(crate) alice: User,
    pub(crate) bob: User,
    /// A user of project B (whose token must mean nothing in project A).
    pub(crate) stranger: User,
}

/// An end user: its id and an access token from a real login.
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) token: String,
}

impl User {
    /// Signs up `email` in the project and logs in.
    pub(crate) fn sign_up(server: &Server, project: &Project, email: &str) -> User {
        let credentials = json!({"email": email, "password": "correct horse"});
        let key = [("x-api-key", project.pk.as_str())];
        let (status, body) = server.request("POST", "/api/userAuth/signup", &key, Some(&credentials));
        assert_eq!(status, 201, "signup of {email}: {body}");
        let id = body["userId"].as_str().expect("userId").to_owned();
        let (status, body) = server.request("POST", "/api/userAuth/login", &key, Some(&credentials));
        assert_eq!(status, 200, "login of {email}: {body}");
        User { id, token: body["accessToken"].as_str().expect("accessToken").to_owned() }
    }
}

pub(crate) const MODES: [(&str, &str); 3] = [("notes", "off"), ("posts", "public-read"), ("secrets", "private")];

pub(crate) fn definition(name: &str, mode: &str) -> Value {
    let rls = match mode {
        "off" => json!({"enabled": false}),
        mode => json!({"enabled": true, "mode": mode, "ownerField": "userId"}),
    };
    json!({
        "name": name,
        "model": [
            {"key": "title", "type": "String", "required": true},
            {"key": "views", "type": "Number"},
            {"key": "userId", "type": "String"}
        ],
        "rls": rls
    })
}

impl World {
    pub(crate) fn new(label: &str, lane: Lane) -> World {
        let dir = TempDir::new(label);
        let (backend, mongo) = backend(&dir, label, lane);
        let a = Project::create(&backend, "alpha");
        let b = Project::create(&backend, "beta");
        for (name, mode) in MODES {
            a.put_collection(&backend, &dir, &definition(name, mode));
            b.put_collection(&backend, &dir, &definition(name, mode));
        }
        let server = Server::start_with(&backend, &["--rate-limit-per-ip", "0"]);
        let alice = User::sign_up(&server, &a, "alice@example.com");
        let bob = User::sign_up(&server, &a, "bob@example.com");
        let stranger = User::sign_up(&server, &b, "alice@example.com");
        World { server, mongo, dir, backend, a, b, alice, bob, stranger }
    }

    /// A request with a key and, optionally, a user token.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        keyed_request(&self.server, method, path, (key, token), &[], body)
    }

    /// Inserts a document with the secret key and returns its id.
    pub(crate) fn seed(&self, project: &Project, collection: &str, doc: Value) -> String {
        let (status, body) = self.call("POST", &format!("/api/data/{collection}"), &project.sk, None, Some(&doc));
        assert_eq!(status, 201, "seeding {collection}: {body}");
        body["_id"].as_str().expect("id").to_owned()
    }

    /// The stored document, read with the secret key (`None` if it is gone).
    pub(crate) fn stored(&self, project: &Project, collection: &str, id: &str) -> Option<Value> {
        let (status, body) = self.call("GET", &format!("/api/data/{collection}/{id}"), &project.sk, None, None);
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("reading back {collection}/{id}: {other} {body}"),
        }
    }
}

/// A request with an API key and, optionally, a user token (`credentials`), plus `extra` headers.
pub(crate) fn keyed_request(
    server: &Server,
    method: &str,
    path: &str,
    (key, token): (&str, Option<&str>),
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("x-api-key", key)];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    headers.extend_from_slice(extra);
    server.request(method, path, &headers, body)
}
