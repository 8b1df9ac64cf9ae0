//! The global templates every project can use by key or id (spec §10: `welcome`, `welcome-2`,
//! `otp`, `password-reset`, `invite`). Their variables: `name`, `projectName`, `appUrl`
//! (welcomes); `otp`, `expiresInMinutes`, `projectName` (codes; `password-reset` also shows a
//! `resetUrl` when given); `name`, `projectName`, `inviteUrl` (invite). URL variables pass
//! through the `…url`/`…uri` rule, so only http(s) links are ever rendered.

use std::sync::LazyLock;

use crate::templates::{Scope, Template};

/// One built-in template before the shared HTML frame is put around its body.
struct Builtin {
    id: &'static str,
    key: &'static str,
    name: &'static str,
    subject: &'static str,
    html_body: &'static str,
    text: &'static str,
}

const BUTTON: &str = "display:inline-block;padding:12px 20px;background:#18181b;color:#ffffff;\
                      text-decoration:none;border-radius:6px;font-weight:600";

const BUILTINS: &[Builtin] = &[
    Builtin {
        id: "00000000000000000000c001",
        key: "welcome",
        name: "Welcome",
        subject: "Welcome to {{projectName}}",
        html_body: "<h1 style=\"font-size:22px;margin:0 0 16px\">Welcome, {{name}}!</h1>\n\
            <p>Thanks for joining {{projectName}}. Your account is ready.</p>\n\
            <p style=\"margin:24px 0\"><a href=\"{{appUrl}}\" style=\"{{button}}\">Open {{projectName}}</a></p>\n\
            <p style=\"font-size:13px;color:#52525b\">If the button does not work, copy this address into your \
            browser: {{appUrl}}</p>",
        text: "Welcome, {{name}}!\n\nThanks for joining {{projectName}}. Your account is ready.\n\n\
            Open {{projectName}}: {{appUrl}}\n",
    },
    Builtin {
        id: "00000000000000000000c002",
        key: "welcome-2",
        name: "Welcome (short)",
        subject: "Your {{projectName}} account is ready",
        html_body: "<p>Hi {{name}},</p>\n\
            <p>Everything is set up. Sign in to {{projectName}} to get started:</p>\n\
            <p style=\"margin:24px 0\"><a href=\"{{appUrl}}\" style=\"{{button}}\">Get started</a></p>\n\
            <p>See you soon,<br>The {{projectName}} team</p>",
        text: "Hi {{name}},\n\nEverything is set up. Sign in to {{projectName}} to get started: {{appUrl}}\n\n\
            See you soon,\nThe {{projectName}} team\n",
    },
    Builtin {
        id: "00000000000000000000c003",
        key: "otp",
        name: "Verification code",
        subject: "Your {{projectName}} verification code",
        html_body: "<p>Hello,</p>\n\
            <p>Use this code to verify your {{projectName}} account:</p>\n\
            <p style=\"font-size:32px;font-weight:700;letter-spacing:6px;margin:24px 0\">{{otp}}</p>\n\
            <p>The code expires in {{expiresInMinutes}} minutes. If you did not ask for it, you can ignore \
            this e-mail.</p>",
        text: "Hello,\n\nUse this code to verify your {{projectName}} account: {{otp}}\n\n\
            The code expires in {{expiresInMinutes}} minutes. If you did not ask for it, you can ignore this \
            e-mail.\n",
    },
    Builtin {
        id: "00000000000000000000c004",
        key: "password-reset",
        name: "Password reset",
        subject: "Reset your {{projectName}} password",
        html_body: "<p>Hello,</p>\n\
            <p>We received a request to reset the password of your {{projectName}} account. Your reset code \
            is:</p>\n\
            <p style=\"font-size:32px;font-weight:700;letter-spacing:6px;margin:24px 0\">{{otp}}</p>\n\
            <p>The code expires in {{expiresInMinutes}} minutes. <a href=\"{{resetUrl}}\">{{resetUrl}}</a></p>\n\
            <p>If you did not ask for a new password, ignore this e-mail: your password stays as it is.</p>",
        text: "Hello,\n\nWe received a request to reset the password of your {{projectName}} account.\n\n\
            Your reset code: {{otp}}\n\nThe code expires in {{expiresInMinutes}} minutes. {{resetUrl}}\n\n\
            If you did not ask for a new password, ignore this e-mail: your password stays as it is.\n",
    },
    Builtin {
        id: "00000000000000000000c005",
        key: "invite",
        name: "Invitation",
        subject: "You are invited to {{projectName}}",
        html_body: "<p>Hi {{name}},</p>\n\
            <p>You have been invited to join {{projectName}}.</p>\n\
            <p style=\"margin:24px 0\"><a href=\"{{inviteUrl}}\" style=\"{{button}}\">Accept the invitation</a></p>\n\
            <p style=\"font-size:13px;color:#52525b\">Or open this address: {{inviteUrl}}</p>",
        text: "Hi {{name}},\n\nYou have been invited to join {{projectName}}.\n\n\
            Accept the invitation: {{inviteUrl}}\n",
    },
];

/// The HTML frame around every built-in body.
fn framed(body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><body style=\"margin:0;padding:24px;background:#f4f4f5;\
         font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#18181b;line-height:1.5\">\n\
         <div style=\"max-width:480px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px\">\n\
         {}\n</div>\n\
         <p style=\"text-align:center;font-size:12px;color:#71717a\">Sent by {{{{projectName}}}}</p>\n\
         </body></html>\n",
        body.replace("{{button}}", BUTTON)
    )
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    BUILTINS
        .iter()
        .map(|b| Template {
            id: b.id.to_owned(),
            scope: Scope::Global,
            key: b.key.to_owned(),
            name: b.name.to_owned(),
            subject: b.subject.to_owned(),
            html: framed(b.html_body),
            text: b.text.to_owned(),
        })
        .collect()
});

/// Every built-in template.
pub fn builtins() -> &'static [Template] {
    &TEMPLATES
}

/// The built-in template with this key (`welcome`, `welcome-2`, `otp`, `password-reset`,
/// `invite`).
pub fn builtin(key: &str) -> Option<&'static Template> {
    builtins().iter().find(|t| t.key == key)
}
