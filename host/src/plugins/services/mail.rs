//! Capability `mail`: e-mail from the panel's address through the mail server the
//! administrator configured.

use async_trait::async_trait;
use hatchery_runtime::services::Mail;
use hatchery_sdk::{HostError, MailMessage};

use super::{HostServices, host_error};

/// Largest message body a plugin may send.
const MAX_TEXT_BYTES: usize = 256 * 1024;

#[async_trait]
impl Mail for HostServices {
    async fn mail_send(&self, message: MailMessage) -> Result<(), HostError> {
        self.require(self.grants.mail, "mail")?;
        let mailer = self.mailer.as_ref().ok_or_else(|| {
            HostError::Unavailable(
                "the panel has no mail server; its administrator sets `smtp_url`".into(),
            )
        })?;
        if message.text.len() > MAX_TEXT_BYTES {
            return Err(HostError::Invalid(format!(
                "a message is at most {} KiB",
                MAX_TEXT_BYTES / 1024
            )));
        }
        mailer
            .send(&message.to, &message.subject, &message.text)
            .await
            .map_err(host_error)
    }
}
