//! `POST /api/mail/send` end to end: a real SMTP server (aiosmtpd) receives what the server
//! sends, with built-in and project templates (the latter added through the command line); the
//! secret-key rule, the validation texts, the monthly quota shared by two servers on one store,
//! and the `.eml` folder a server without SMTP writes into.

use serde_json::{Value, json};
use urbackend_tests::{Backend, Lane, Server, SmtpSink, TempDir, cli};

use crate::fixture::{Project, backend};

fn send(server: &Server, key: &str, body: &Value) -> (u16, Value) {
    server.request("POST", "/api/mail/send", &[("x-api-key", key)], Some(body))
}

/// Asserts an error answer: status, `error` and `message`.
fn assert_refused((status, body): (u16, Value), expected_status: u16, text: &str) {
    assert_eq!((status, &body["error"], &body["message"]), (expected_status, &json!(text), &json!(text)), "{body}");
    assert_eq!((&body["success"], &body["code"]), (&json!(false), &json!(expected_status)), "{body}");
}

fn mail_goes_out_over_smtp(lane: Lane) {
    let sink = SmtpSink::start();
    let dir = TempDir::new("mail-smtp");
    let (backend, _mongo) = backend(&dir, "mail", lane);
    let project = Project::create(&backend, "Acme");

    // A project template through the command line.
    let file = dir.path().join("template.json");
    let template = json!({"name": "Order Shipped", "subject": "Order {{order.id}} shipped",
        "html": "<p>Hi {{name}}, track it at <a href=\"{{trackingUrl}}\">{{trackingUrl}}</a></p>",
        "text": "Hi {{name}}, track it at {{trackingUrl}}"});
    std::fs::write(&file, template.to_string()).unwrap();
    let file = file.display().to_string();
    let stored = cli(&backend, &["mail", "template", "put", "--project", &project.id, "--file", &file]);
    let template_id = stored["id"].as_str().expect("an id").to_owned();
    assert!(template_id.len() == 24 && template_id.bytes().all(|b| b.is_ascii_hexdigit()), "{stored}");
    assert_eq!((&stored["key"], &stored["scope"]), (&json!("order-shipped"), &json!("project")));
    let listed = cli(&backend, &["mail", "template", "list", "--project", &project.id]);
    assert_eq!(listed["templates"][0]["id"], json!(template_id));
    let global: Vec<&str> = listed["global"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(global, ["welcome", "welcome-2", "otp", "password-reset", "invite"]);

    let port = sink.port.to_string();
    let env = [
        ("URBACKEND_SMTP_HOST", "127.0.0.1"),
        ("URBACKEND_SMTP_PORT", port.as_str()),
        ("URBACKEND_SMTP_TLS", "none"),
        ("URBACKEND_MAIL_FROM", "Acme Mail <noreply@acme.test>"),
        ("URBACKEND_MAIL_PER_MONTH", "3"),
    ];
    let server = Server::start_with_env(&backend, &["--rate-limit-per-ip", "0"], &env);
    let (sk, pk) = (project.sk.as_str(), project.pk.as_str());

    let welcome = json!({"to": "ana@example.com", "templateName": "welcome",
        "variables": {"name": "<b>Ana</b>", "projectName": "Acme", "appUrl": "https://acme.test/app"},
        "from": "spoof@evil.test", "cc": ["cc@example.com"], "bcc": "bcc@example.com"});
    assert_refused(send(&server, pk, &welcome), 403, "Forbidden. This action requires a Secret Key (sk_live_...).");
    refusals(&server, sk);
    assert!(sink.messages().is_empty(), "nothing was sent by refused requests");

    // STARTTLS is required by default, and this server does not offer it: no plain-text
    // fallback, and the quota slot is given back.
    let strict_env = [env[0], env[1], env[3], env[4]];
    let strict = Server::start_with_env(&backend, &["--rate-limit-per-ip", "0"], &strict_env);
    let failed = "Mail delivery failed: no secure connection to the mail server could be made.";
    assert_refused(send(&strict, sk, &welcome), 500, failed);
    drop(strict);

    // A built-in template; the SDK's from/cc/bcc are ignored.
    let (status, body) = send(&server, sk, &welcome);
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["success"], &body["message"]), (&json!(true), &json!("Mail sent successfully.")));
    let data = &body["data"];
    assert_eq!(
        (&data["provider"], &data["monthlyUsage"], &data["monthlyLimit"]),
        (&json!("smtp"), &json!(1), &json!(3))
    );
    let used = json!({"id": "00000000000000000000c001", "scope": "global", "key": "welcome", "name": "Welcome"});
    assert_eq!(data["templateUsed"], used);
    let message = &sink.wait_for(1)[0];
    assert_eq!(message["rcptTos"], json!(["ana@example.com"]), "{message}");
    assert_eq!(message["mailFrom"], json!("noreply@acme.test"));
    assert_eq!(
        (&message["subject"], &message["from"]),
        (&json!("Welcome to Acme"), &json!("Acme Mail <noreply@acme.test>"))
    );
    let html = message["html"].as_str().unwrap();
    assert!(
        html.contains("Welcome, &lt;b&gt;Ana&lt;/b&gt;!") && html.contains("href=\"https://acme.test/app\""),
        "{html}"
    );
    assert!(message["text"].as_str().unwrap().contains("Welcome, <b>Ana</b>!"), "{message}");
    let message_id = message["messageId"].as_str().unwrap();
    assert_eq!(message_id, format!("<{}@acme.test>", data["id"].as_str().unwrap()));

    // The project template, by name (any case) and by id; a javascript: link is dropped.
    let order = json!({"to": "bo@example.com", "templateName": "ORDER SHIPPED",
        "variables": {"name": "Bo", "order": {"id": 42}, "trackingUrl": "javascript:alert(1)"}});
    let (status, body) = send(&server, sk, &order);
    assert_eq!(status, 200, "{body}");
    let used = json!({"id": template_id, "scope": "project", "key": "order-shipped", "name": "Order Shipped"});
    assert_eq!((&body["data"]["templateUsed"], &body["data"]["monthlyUsage"]), (&used, &json!(2)));
    let message = &sink.wait_for(2)[1];
    assert_eq!((&message["subject"], &message["rcptTos"]), (&json!("Order 42 shipped"), &json!(["bo@example.com"])));
    assert!(message["html"].as_str().unwrap().contains("<a href=\"\"></a>"), "{message}");
    let direct = json!({"to": "cy@example.com", "templateId": template_id, "subject": "Custom", "text": "Just text"});
    let (status, body) = send(&server, sk, &direct);
    assert_eq!((status, &body["data"]["monthlyUsage"]), (200, &json!(3)), "{body}");
    let message = &sink.wait_for(3)[2];
    assert_eq!((&message["subject"], message["text"].as_str().map(str::trim)), (&json!("Custom"), Some("Just text")));
    assert!(message["html"].as_str().unwrap().contains("Hi , track it"), "the template's html part stays: {message}");

    // The quota is counted in the store: a second server on it sees the same month.
    let second = Server::start_with_env(&backend, &["--rate-limit-per-ip", "0"], &env);
    for server in [&server, &second] {
        assert_refused(send(server, sk, &direct), 429, "Monthly mail limit exceeded.");
    }
    assert_eq!(sink.messages().len(), 3, "nothing sent over the limit");
}

/// Every refusal that needs no template of the project (exact texts).
fn refusals(server: &Server, sk: &str) {
    let cases = [
        (
            json!({"to": ["a@example.com"], "subject": "s", "text": "t"}),
            "Invalid input: expected string, received array",
        ),
        (json!({"to": "not-an-email", "subject": "s", "text": "t"}), "Invalid recipient email format"),
        (json!({"subject": "s", "text": "t"}), "Invalid input: expected string, received undefined"),
        (json!({"to": "a@example.com", "subject": "s", "text": "t", "templateId": "1234"}), "Invalid template id"),
        (json!({"to": "a@example.com", "subject": "x".repeat(201), "text": "t"}), "Subject is too long"),
        (
            json!({"to": "a@example.com", "subject": "  ", "text": "t"}),
            "Provide either (subject + html/text) or a templateId/templateName.",
        ),
        (
            json!({"to": "a@example.com", "templateId": "00000000000000000000c001", "templateName": "welcome"}),
            "Provide only one of templateId or templateName.",
        ),
        (json!({"to": "a@example.com", "templateName": "no-such-template"}), "Template not found."),
        (json!({"to": "a@example.com", "templateId": "65a0c0de0000000a0000000b"}), "Template not found."),
        (json!({"to": "a@example.com", "subject": "{{nothing}}", "text": "t"}), "Subject is required."),
        (
            json!({"to": "a@example.com", "subject": "s", "html": "{{{nothing}}}"}),
            "Provide at least one of html or text content.",
        ),
    ];
    for (body, text) in cases {
        assert_refused(send(server, sk, &body), 400, text);
    }
    let (status, body) = server.request("POST", "/api/mail/send", &[("x-api-key", sk)], None);
    assert_eq!((status, &body["error"]), (400, &json!("Invalid input: expected string, received undefined")));
}

fn without_smtp_mail_is_written_to_the_data_folder(lane: Lane) {
    let dir = TempDir::new("mail-folder");
    let (backend, _mongo) = backend(&dir, "mailfolder", lane);
    let project = Project::create(&backend, "Folder");
    // The embedded store lives in the data directory; on MongoDB, name one.
    let (data_dir, extra) = match &backend {
        Backend::Embedded(data) => (data.clone(), vec![]),
        Backend::Mongo(_) => {
            (dir.path().join("data"), vec!["--data-dir".to_owned(), dir.path().join("data").display().to_string()])
        }
    };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let server = Server::start_with_env(&backend, &extra, &[]);
    let outbox = data_dir.join("mail");
    let body = json!({"to": "dev@example.com", "templateName": "otp",
        "variables": {"otp": "918273", "projectName": "Folder", "expiresInMinutes": 5}});
    let (status, body) = send(&server, &project.sk, &body);
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["data"]["provider"], &body["data"]["monthlyLimit"]), (&json!("folder"), &json!(1000)));
    let files: Vec<_> =
        std::fs::read_dir(&outbox).expect("the mail folder exists").map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert!(
        file.extension().is_some_and(|e| e == "eml")
            && file.display().to_string().contains(body["data"]["id"].as_str().unwrap())
    );
    let eml = std::fs::read_to_string(file).unwrap();
    assert!(
        eml.contains("To: dev@example.com\r\n") && eml.contains("Subject: Your Folder verification code\r\n"),
        "{eml}"
    );
    assert!(eml.contains("918273"), "a developer can read the code there: {eml}");
}

crate::on_both_lanes!(mail_goes_out_over_smtp, without_smtp_mail_is_written_to_the_data_folder);
