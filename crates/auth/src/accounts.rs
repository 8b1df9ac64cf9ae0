//! The account use cases behind `/api/userAuth` (spec §8): signup, login, me, public profiles,
//! profile updates and the refresh-token endpoints. E-mail verification and password recovery
//! are in `recovery`. Every method takes the project resolved from the API key and the current
//! time; the HTTP layer only shapes the results.

use std::sync::Arc;

use async_trait::async_trait;
use platform::{Project, StoreResolver};
use serde_json::{Map, Value};
use store::{Document, DocumentStore};

use crate::codes::{CodePurpose, Codes};
use crate::config::AccountsConfig;
use crate::error::{AuthError, texts};
use crate::input;
use crate::password::PasswordHasher;
use crate::presence::Presence;
use crate::sessions::{ClientInfo, RawToken, Sessions};
use crate::system::SystemStore;
use crate::throttle::Throttle;
use crate::token::{self, AccessClaims};
use crate::users::{Users, generated_name, id_of, is_protected, own_view};

/// Sends the one-time codes. The binary wires the mail service; a failure is logged, never
/// shown to the client (the original queued these mails too).
#[async_trait]
pub trait CodeMailer: Send + Sync + 'static {
    /// Sends `code` for `purpose` to `to` on behalf of `project`.
    async fn send_code(&self, project: &Project, to: &str, purpose: CodePurpose, code: &str) -> Result<(), String>;
}

/// Tokens handed out by signup, login, refresh and social login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The access token (also sent as the deprecated `token`).
    pub access_token: String,
    /// The configured lifetime text, e.g. `15m`.
    pub expires_in: String,
    /// The raw refresh token (cookie, and the body in header mode).
    pub refresh_token: String,
    /// The user's id.
    pub user_id: String,
}

/// What a signup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupOutcome {
    /// A new user (201).
    Created(Issued),
    /// The address belongs to an unverified user: a new code went out (200, no tokens).
    CodeResent {
        /// The existing user's id.
        user_id: String,
    },
}

/// `429` when a client or account is over its login budget.
pub const LOGIN_THROTTLED: &str = "Too many login attempts. Please try again later.";
/// `401` when the project no longer offers auth at refresh time.
pub const AUTH_UNAVAILABLE: &str = "Project auth is unavailable";

/// The accounts service, shared by every request.
pub struct Accounts {
    pub(crate) stores: Arc<dyn StoreResolver>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) mailer: Arc<dyn CodeMailer>,
    pub(crate) config: AccountsConfig,
    pub(crate) sessions: Sessions,
    pub(crate) system: SystemStore,
    pub(crate) codes: Codes,
    login_account: Throttle,
    login_ip: Throttle,
    refresh_ip: Throttle,
    refresh_token: Throttle,
    refresh_user: Throttle,
    presence: Presence,
}

fn now_secs(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000)
}

impl Accounts {
    /// The service: `platform_store` keeps sessions and codes, `stores` finds each project's
    /// users collection.
    pub fn new(
        platform_store: Arc<dyn DocumentStore>,
        stores: Arc<dyn StoreResolver>,
        hasher: PasswordHasher,
        mailer: Arc<dyn CodeMailer>,
        config: AccountsConfig,
    ) -> Accounts {
        let system = SystemStore::new(platform_store);
        Accounts {
            stores,
            hasher,
            mailer,
            sessions: Sessions::new(system.clone(), config.refresh_lifetime_ms),
            codes: Codes::new(system.clone(), config.codes),
            system,
            login_account: Throttle::new(config.login_failures_per_account),
            login_ip: Throttle::new(config.login_failures_per_ip),
            refresh_ip: Throttle::new(config.refresh_per_ip),
            refresh_token: Throttle::new(config.refresh_per_token),
            refresh_user: Throttle::new(config.refresh_per_user),
            presence: Presence::default(),
            config,
        }
    }

    pub(crate) async fn users(&self, project: &Project) -> Result<Users, AuthError> {
        Users::locate(self.stores.as_ref(), project).await
    }

    /// Issues an access token and a new refresh session (a new family unless `family`).
    pub async fn issue(
        &self,
        project: &Project,
        user_id: &str,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Issued, AuthError> {
        self.issue_in(project, user_id, None, None, client, now_ms).await
    }

    async fn issue_in(
        &self,
        project: &Project,
        user_id: &str,
        family: Option<&str>,
        rotated_from: Option<&str>,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Issued, AuthError> {
        let issued_at = now_secs(now_ms);
        let claims = AccessClaims {
            user_id: user_id.to_owned(),
            project_id: project.id.clone(),
            issued_at,
            expires_at: issued_at + self.config.access_ttl.seconds,
        };
        let access_token = token::sign(project.jwt_secret.as_bytes(), &claims);
        let refresh_token = self.sessions.issue(&project.id, user_id, family, rotated_from, client, now_ms).await?;
        Ok(Issued {
            access_token,
            expires_in: self.config.access_ttl.text.clone(),
            refresh_token,
            user_id: user_id.to_owned(),
        })
    }

    /// Sends a code in the background.
    pub(crate) fn send_code(&self, project: &Project, to: &str, purpose: CodePurpose, code: String) {
        let mailer = self.mailer.clone();
        let project = project.clone();
        let to = to.to_owned();
        tokio::spawn(async move {
            if let Err(error) = mailer.send_code(&project, &to, purpose, &code).await {
                tracing::warn!(project = %project.id, ?purpose, %error, "could not send a one-time code");
            }
        });
    }

    /// Issues a new code for the address and mails it.
    pub(crate) async fn mail_new_code(
        &self,
        project: &Project,
        purpose: CodePurpose,
        email: &str,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let code = self.codes.issue(&project.id, &project.jwt_secret, purpose, email, now_ms).await?;
        self.send_code(project, email, purpose, code);
        Ok(())
    }

    /// The user behind an `Authorization` header value (`Bearer <token>`), or the 401 with
    /// `invalid_text`.
    pub fn bearer_user(
        &self,
        project: &Project,
        authorization: Option<&str>,
        invalid_text: &str,
        now_ms: i64,
    ) -> Result<String, AuthError> {
        let header = authorization.map(str::trim).filter(|h| !h.is_empty());
        let header = header.ok_or_else(|| AuthError::refused(401, texts::NO_TOKEN))?;
        let token = match header.split_once(char::is_whitespace) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => header,
        };
        token::verify(project.jwt_secret.as_bytes(), token, &project.id, now_secs(now_ms))
            .map(|claims| claims.user_id)
            .map_err(|_| AuthError::refused(401, invalid_text))
    }

    /// The user behind an access token of `project`: `None` unless the token verifies and its
    /// user still exists (a deleted user's tokens stop working within
    /// [`PRESENCE_TTL_MS`](crate::PRESENCE_TTL_MS)). A project without a `users` collection has
    /// no users to look up: its tokens (signed by `urbackend project token`) stand on their
    /// signature alone.
    pub async fn token_user(&self, project: &Project, token: &str, now_ms: i64) -> Result<Option<String>, AuthError> {
        let Ok(claims) = token::verify(project.jwt_secret.as_bytes(), token, &project.id, now_secs(now_ms)) else {
            return Ok(None);
        };
        let Some(def) = project.collection("users") else { return Ok(Some(claims.user_id)) };
        let key = Presence::key(&project.id, &claims.user_id);
        let present = match self.presence.recall(&key, now_ms) {
            Some(present) => present,
            None => {
                let present = Users::open(self.stores.as_ref(), project, def).await?.exists(&claims.user_id).await?;
                self.presence.remember(key, present, now_ms);
                present
            }
        };
        Ok(present.then_some(claims.user_id))
    }

    /// `POST /signup` (spec §8.3), keeping the custom fields the users schema declares.
    pub async fn signup(
        &self,
        project: &Project,
        body: &Value,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<SignupOutcome, AuthError> {
        let users = self.users(project).await?;
        let email = input::account_email(body)?;
        let password = input::account_password(body, "password")?;
        let username = input::signup_username(body)?;
        if let Some(existing) = users.by_email(&email).await? {
            let unverified = users
                .verification_field()
                .is_some_and(|field| !existing.get(field).and_then(Value::as_bool).unwrap_or(false));
            if !unverified {
                return Err(AuthError::bad_request(texts::USER_EXISTS));
            }
            self.codes.check_cooldown(&project.id, &email, now_ms).await?;
            self.mail_new_code(project, CodePurpose::Verification, &email, now_ms).await?;
            return Ok(SignupOutcome::CodeResent { user_id: id_of(&existing) });
        }
        let mut doc = Document::new();
        if let Some(fields) = body.as_object() {
            for (key, value) in fields {
                if users.declares(key) && !is_protected(key) && key != "username" {
                    doc.insert(key.clone(), value.clone());
                }
            }
        }
        doc.insert("email".to_owned(), Value::String(email.clone()));
        doc.insert("password".to_owned(), Value::String(self.hasher.hash(password).await?));
        if let Some(name) = &username {
            doc.insert("username".to_owned(), Value::String(name.clone()));
        }
        if let Some(field) = users.verification_field() {
            doc.insert(field.to_owned(), Value::Bool(false));
        }
        fill_generated_names(&users, &mut doc, &email);
        let stored = users.insert(doc).await?;
        let user_id = id_of(&stored);
        if users.verification_field().is_some() {
            self.mail_new_code(project, CodePurpose::Verification, &email, now_ms).await?;
        }
        Ok(SignupOutcome::Created(self.issue(project, &user_id, client, now_ms).await?))
    }

    /// `POST /login` (spec §8.4): the same answer, and about the same time, for an unknown
    /// address as for a wrong password; failures are throttled per account and per IP.
    pub async fn login(
        &self,
        project: &Project,
        body: &Value,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Issued, AuthError> {
        let users = self.users(project).await?;
        let email = input::account_email(body)?;
        let password = input::account_password(body, "password")?;
        let account_key = format!("{}:{email}", project.id);
        if self.login_account.exceeded(&account_key, now_ms) || self.login_ip.exceeded(client.ip, now_ms) {
            return Err(AuthError::refused(429, LOGIN_THROTTLED));
        }
        let user = users.by_email(&email).await?;
        let stored_hash = user.as_ref().and_then(|u| u.get("password")).and_then(Value::as_str).map(str::to_owned);
        let verified = match stored_hash {
            Some(hash) => Some(self.hasher.verify(password, hash).await?),
            None => {
                self.hasher.verify_dummy(password).await?;
                None
            }
        };
        let (Some(user), Some(verified)) = (user, verified.filter(|v| v.matches)) else {
            self.login_account.hit(&account_key, now_ms);
            self.login_ip.hit(client.ip, now_ms);
            return Err(AuthError::bad_request(texts::BAD_CREDENTIALS));
        };
        self.login_account.clear(&account_key, now_ms);
        let user_id = id_of(&user);
        if let Some(rehash) = verified.rehash {
            let mut set = Map::new();
            set.insert("password".to_owned(), Value::String(rehash));
            users.set(&user_id, set).await?;
        }
        self.issue(project, &user_id, client, now_ms).await
    }

    /// `GET /me` (spec §8.5): the caller's own document without the password hash.
    pub async fn me(&self, project: &Project, authorization: Option<&str>, now_ms: i64) -> Result<Document, AuthError> {
        let users = self.users(project).await?;
        let user_id = self.bearer_user(project, authorization, texts::INVALID_TOKEN_ME, now_ms)?;
        let user = users.by_id(&user_id).await?.ok_or_else(|| AuthError::refused(404, texts::USER_NOT_FOUND))?;
        Ok(own_view(user))
    }

    /// `GET /public/:username` (spec §8.6).
    pub async fn public_profile(&self, project: &Project, username: &str) -> Result<Document, AuthError> {
        let users = self.users(project).await?;
        if !users.declares("username") {
            return Err(AuthError::bad_request("Public profile requires a 'username' field in users schema"));
        }
        let user = users
            .find_one("username", username)
            .await?
            .ok_or_else(|| AuthError::refused(404, texts::USER_NOT_FOUND))?;
        Ok(users.public_profile(&user))
    }

    /// `PUT /update-profile` (spec §8.9): only declared fields an end user may set, validated
    /// as a data update.
    pub async fn update_profile(
        &self,
        project: &Project,
        authorization: Option<&str>,
        body: &Value,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let users = self.users(project).await?;
        let user_id = self.bearer_user(project, authorization, texts::INVALID_TOKEN, now_ms)?;
        let mut set = Map::new();
        if let Some(fields) = body.as_object() {
            for (key, value) in fields {
                if is_protected(key) || !users.declares(key) {
                    continue;
                }
                if key == "username" {
                    let ok = value.as_str().is_some_and(|n| input::USERNAME_LEN.contains(&n.trim().chars().count()));
                    if !ok {
                        return Err(AuthError::bad_request("Username must be between 3 and 50 characters."));
                    }
                }
                set.insert(key.clone(), value.clone());
            }
        }
        if !set.is_empty() {
            users.set(&user_id, set).await?;
        }
        Ok(())
    }

    /// `POST /refresh-token` (spec §8.10): rotation with reuse detection.
    pub async fn refresh(
        &self,
        project: &Project,
        raw: Option<&str>,
        client: ClientInfo<'_>,
        now_ms: i64,
    ) -> Result<Issued, AuthError> {
        use crate::sessions::texts as rt;
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        let raw = raw.ok_or_else(|| AuthError::refused_clearing(401, rt::MISSING))?;
        let token = RawToken::parse(raw)?;
        if !self.refresh_ip.hit(client.ip, now_ms) {
            return Err(AuthError::refused_clearing(429, "Too many refresh attempts from this IP"));
        }
        if !self.refresh_token.hit(token.id, now_ms) {
            return Err(AuthError::refused_clearing(429, "Too many refresh attempts for this token"));
        }
        let users = match self.users(project).await {
            Ok(users) => users,
            Err(AuthError::Refused { status: 404 | 403, message, .. }) if message == texts::USERS_MISSING => {
                return Err(AuthError::refused_clearing(404, "Auth collection not found"));
            }
            Err(AuthError::Refused { .. }) => return Err(AuthError::refused_clearing(401, AUTH_UNAVAILABLE)),
            Err(e) => return Err(e),
        };
        let admit = |user_id: &str| {
            if self.refresh_user.hit(&format!("{}:{user_id}", project.id), now_ms) {
                Ok(())
            } else {
                Err(AuthError::refused_clearing(429, "Too many refresh attempts for this user"))
            }
        };
        let session = self.sessions.spend(&project.id, raw, now_ms, admit).await?;
        if users.by_id(&session.user_id).await?.is_none() {
            return Err(AuthError::refused_clearing(401, "User not found for refresh token"));
        }
        self.issue_in(project, &session.user_id, Some(&session.family), Some(&session.token_id), client, now_ms).await
    }

    /// `POST /logout` (spec §8.11): revokes the refresh token's family when it is one of this
    /// project's; always succeeds otherwise.
    pub async fn logout(&self, project: &Project, raw: Option<&str>) -> Result<(), AuthError> {
        match raw.map(str::trim).filter(|r| !r.is_empty()) {
            Some(raw) => self.sessions.revoke(&project.id, raw).await,
            None => Ok(()),
        }
    }
}

/// Fills `name` or `username` when the schema requires it and the signup gave none (spec §8.3).
pub(crate) fn fill_generated_names(users: &Users, doc: &mut Document, email: &str) {
    let required = |key: &str| users.def().field(key).is_some_and(|f| f.required);
    let text = |doc: &Document, key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
    if required("name") && text(doc, "name").is_none() {
        let name = generated_name(text(doc, "username").as_deref(), email);
        doc.insert("name".to_owned(), Value::String(name));
    }
    if required("username") && text(doc, "username").is_none() {
        let name = generated_name(text(doc, "name").as_deref(), email);
        doc.insert("username".to_owned(), Value::String(name));
    }
}
