//! Connection start-up: which database, and the parameters clients expect.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
    ServerParameterProvider, StartupHandler,
};
use pgwire::api::PgWireConnectionState;
use pgwire::api::{
    ClientInfo, ConnectionGuard, ConnectionHandle, ConnectionManager, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator, METADATA_APPLICATION_NAME, METADATA_DATABASE, METADATA_USER,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::auth::{AuthError, Exchange, ScramSecret};

/// The version reported to clients: a PostgreSQL 15 string, so drivers that
/// parse it pick PostgreSQL 15 behaviour.
pub const SERVER_VERSION: &str = "15.0";

/// Accepts connections to database `dev`: without a password, or with
/// SCRAM-SHA-256 when one is configured.
pub struct Startup {
    pub connections: Arc<ConnectionManager>,
    pub pids: Arc<RandomPidSecretKeyGenerator>,
    /// The configured password's SCRAM keys, if any.
    pub password: Option<Arc<ScramSecret>>,
    /// The exchange in progress between the client's SCRAM messages. The
    /// lock is only held to take or put the value.
    pub exchange: Mutex<Option<Exchange>>,
    /// Set once the client is authenticated and the session ready.
    pub ready: Arc<std::sync::atomic::AtomicBool>,
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let mut p = HashMap::new();
        for (k, v) in [
            ("server_version", SERVER_VERSION),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("IntervalStyle", "postgres"),
            ("TimeZone", "UTC"),
            ("integer_datetimes", "on"),
            ("standard_conforming_strings", "on"),
            ("is_superuser", "on"),
            ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"),
        ] {
            p.insert(k.to_string(), v.to_string());
        }
        let meta = client.metadata();
        p.insert(
            "application_name".into(),
            meta.get(METADATA_APPLICATION_NAME)
                .cloned()
                .unwrap_or_default(),
        );
        if let Some(user) = meta.get(METADATA_USER) {
            p.insert("session_authorization".into(), user.clone());
        }
        Some(p)
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let startup = match message {
            PgWireFrontendMessage::Startup(ref startup) => startup,
            PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                return self.on_password(client, msg).await
            }
            _ => return Ok(()),
        };
        protocol_negotiation(client, startup).await?;
        save_startup_parameters_to_metadata(client, startup);
        let meta = client.metadata();
        if meta.get(METADATA_USER).is_none_or(|u| u.is_empty()) {
            return Err(fatal(
                "28000",
                "no PostgreSQL user name specified in startup packet".into(),
            ));
        }
        // PostgreSQL defaults the database to the user name.
        let database = meta
            .get(METADATA_DATABASE)
            .or_else(|| meta.get(METADATA_USER))
            .cloned()
            .unwrap_or_default();
        if database != rivulet_catalog::DEFAULT_DATABASE {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "3D000".into(),
                format!("database \"{database}\" does not exist"),
            ))));
        }
        let (pid, key) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, key.clone());
        let (handle, guard) = self.connections.register(pid, key);
        client
            .session_extensions()
            .insert::<Arc<ConnectionHandle>>(handle);
        client.session_extensions().insert::<ConnectionGuard>(guard);
        if self.password.is_some() {
            client.set_state(PgWireConnectionState::AuthenticationInProgress);
            return client
                .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                    vec!["SCRAM-SHA-256".into()],
                )))
                .await
                .map_err(Into::into);
        }
        finish_authentication(client, &Parameters).await?;
        self.ready.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

impl Startup {
    /// The SASL messages of a SCRAM-SHA-256 exchange.
    async fn on_password<C>(&self, client: &mut C, msg: PasswordMessageFamily) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let failed = || {
            fatal(
                "28P01",
                format!("password authentication failed for user \"{user}\""),
            )
        };
        let Some(secret) = self.password.clone() else {
            return Err(fatal("08P01", "unexpected password message".into()));
        };
        let pending = self
            .exchange
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match pending {
            None => {
                let init = msg.into_sasl_initial_response()?;
                if init.auth_method != "SCRAM-SHA-256" {
                    return Err(fatal(
                        "28000",
                        format!("unsupported SASL mechanism {}", init.auth_method),
                    ));
                }
                let data = init.data.unwrap_or_default();
                let (exchange, server_first) =
                    Exchange::start(&secret, &data).map_err(|_| failed())?;
                *self.exchange.lock().unwrap_or_else(|e| e.into_inner()) = Some(exchange);
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::SASLContinue(server_first.into_bytes().into()),
                    ))
                    .await?;
                Ok(())
            }
            Some(exchange) => {
                let response = msg.into_sasl_response()?;
                match exchange.finish(&secret, &response.data) {
                    Ok(server_final) => {
                        client
                            .feed(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(server_final.into_bytes().into()),
                            ))
                            .await?;
                        finish_authentication(client, &Parameters).await?;
                        self.ready.store(true, std::sync::atomic::Ordering::Release);
                        Ok(())
                    }
                    Err(AuthError::Protocol(what)) => {
                        Err(fatal("08P01", format!("malformed SCRAM message: {what}")))
                    }
                    Err(AuthError::Failed) => {
                        tracing::info!(user, "password authentication failed");
                        Err(failed())
                    }
                }
            }
        }
    }
}
