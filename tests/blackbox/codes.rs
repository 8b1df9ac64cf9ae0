//! One-time codes end to end through real mail: the server sends verification and reset codes
//! to an SMTP server started by the test (aiosmtpd on loopback), the test reads the code from
//! the received message and completes verification and password reset; wrong codes burn a
//! code after five attempts, and parallel submissions of one code succeed once.

use serde_json::{Value, json};
use urbackend_tests::{Lane, SmtpSink};

use crate::accounts::{Accounts, error_of};

fn server_with_mail(label: &str, lane: Lane, sink: &SmtpSink) -> Accounts {
    let port = sink.port.to_string();
    Accounts::new(label, lane, &["--smtp-host", "127.0.0.1", "--smtp-port", &port, "--smtp-tls", "none"])
}

/// The six-digit code in the newest message to `to` whose subject is `subject`.
fn code_in_mail(sink: &SmtpSink, to: &str, subject: &str, nth: usize) -> String {
    let messages = sink.wait_for(nth);
    let message = messages
        .iter()
        .rev()
        .find(|m| m["rcptTos"] == json!([to]) && m["subject"] == json!(subject))
        .unwrap_or_else(|| panic!("no '{subject}' mail to {to} in {messages:?}"));
    let text = message["text"].as_str().or(message["html"].as_str()).unwrap_or_default();
    let digits: Vec<char> = text.chars().collect();
    digits
        .windows(6)
        .enumerate()
        .find(|(at, w)| {
            w.iter().all(char::is_ascii_digit)
                && (*at == 0 || !digits[at - 1].is_ascii_digit())
                && digits.get(at + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|(_, w)| w.iter().collect())
        .unwrap_or_else(|| panic!("no code in {text:?}"))
}

fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    (100_000 + (n - 100_000 + 1) % 900_000).to_string()
}

fn verification_and_reset_through_real_mail(lane: Lane) {
    let sink = SmtpSink::start();
    let t = server_with_mail("codes-mail", lane, &sink);
    let (status, body) = t.post("/signup", &json!({"email": "Fay@Example.com", "password": "correct horse"}));
    assert_eq!(status, 201, "{body}");
    let code = code_in_mail(&sink, "fay@example.com", "Verify your account", 1);
    let (status, body) = t.post("/verify-email", &json!({"email": "fay@example.com", "otp": code}));
    assert_eq!((status, body["message"].clone()), (200, json!("Email verified successfully")));
    let (status, login) = t.login("fay@example.com", "correct horse");
    assert_eq!(status, 200);
    let (_, me) = t.with_token("GET", "/me", login["accessToken"].as_str().unwrap(), None);
    assert_eq!(me["isVerified"], json!(true));
    // Verified: signup and resend no longer send codes; signup says the account exists.
    let (status, body) = t.post("/signup", &json!({"email": "fay@example.com", "password": "correct horse"}));
    assert_eq!((status, error_of(&body)), (400, "User already exists with this email."));

    // A session opened before the reset dies with it.
    let headers = [("x-api-key", t.project.pk.as_str()), ("x-refresh-token-mode", "header")];
    let credentials = json!({"email": "fay@example.com", "password": "correct horse"});
    let (_, before) = t.server.request("POST", "/api/userAuth/login", &headers, Some(&credentials));
    let old_refresh = before["refreshToken"].as_str().unwrap().to_owned();

    let (status, body) = t.post("/request-password-reset", &json!({"email": "FAY@example.com"}));
    assert_eq!((status, body["message"].clone()), (200, json!("If that email exists, a reset code has been sent.")));
    let code = code_in_mail(&sink, "fay@example.com", "Reset your password", 2);
    let reset = json!({"email": "fay@example.com", "otp": code, "newPassword": "battery staple"});
    let (status, body) = t.post("/reset-password", &reset);
    assert_eq!((status, body["message"].clone()), (200, json!("Password updated successfully")));
    assert_eq!(t.login("fay@example.com", "correct horse").0, 400);
    assert_eq!(t.login("fay@example.com", "battery staple").0, 200);
    let (status, body) = t.post("/reset-password", &reset);
    assert_eq!((status, error_of(&body)), (400, "Invalid or expired OTP"), "single use");
    let refresh = t.server.request(
        "POST",
        "/api/userAuth/refresh-token",
        &[("x-api-key", &t.project.pk), ("x-refresh-token", &old_refresh)],
        None,
    );
    assert_eq!(refresh.0, 403, "the reset revoked the old session: {:?}", refresh.1);
    // Unknown addresses get the same answer and no mail.
    let (status, body) = t.post("/request-password-reset", &json!({"email": "nobody@example.com"}));
    assert_eq!((status, body["message"].clone()), (200, json!("If that email exists, a reset code has been sent.")));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 2);
}

fn five_wrong_codes_burn_the_code(lane: Lane) {
    let sink = SmtpSink::start();
    let t = server_with_mail("codes-brute", lane, &sink);
    assert_eq!(t.post("/signup", &json!({"email": "gus@example.com", "password": "correct horse"})).0, 201);
    let code = code_in_mail(&sink, "gus@example.com", "Verify your account", 1);
    for _ in 0..5 {
        let (status, body) = t.post("/verify-email", &json!({"email": "gus@example.com", "otp": other_code(&code)}));
        assert_eq!((status, error_of(&body)), (400, "Invalid or expired OTP"));
    }
    let (status, body) = t.post("/verify-email", &json!({"email": "gus@example.com", "otp": code}));
    assert_eq!((status, error_of(&body)), (400, "Invalid or expired OTP"), "burnt after five wrong attempts");
    let (status, body) = t.post("/verify-email", &json!({"email": "gus@example.com", "otp": "12345"}));
    assert_eq!((status, error_of(&body)), (400, "OTP must be 6 digits"));
}

fn parallel_submissions_of_one_code_succeed_once(lane: Lane) {
    let sink = SmtpSink::start();
    let t = server_with_mail("codes-race", lane, &sink);
    assert_eq!(t.post("/signup", &json!({"email": "hal@example.com", "password": "correct horse"})).0, 201);
    let (status, _) = t.post("/request-password-reset", &json!({"email": "hal@example.com"}));
    assert_eq!(status, 200);
    let code = code_in_mail(&sink, "hal@example.com", "Reset your password", 2);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..5)
            .map(|i| {
                let body: Value =
                    json!({"email": "hal@example.com", "otp": code, "newPassword": format!("new secret {i}")});
                let t = &t;
                scope.spawn(move || t.post("/reset-password", &body).0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}

crate::on_both_lanes!(
    verification_and_reset_through_real_mail,
    five_wrong_codes_burn_the_code,
    parallel_submissions_of_one_code_succeed_once,
);
