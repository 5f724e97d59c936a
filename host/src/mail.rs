//! Sending e-mail through the mail server the administrator configured (`smtp_url`,
//! `mail_from`), for plugins granted `mail`.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Error, Result};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From `smtp://host:port` (plain, for a relay on the same machine),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://user:password@host:465`.
    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|err| Error::Config(format!("smtp_url: {err}")))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|err| {
            Error::Config(format!(
                "mail_from: `{from}` is not an address like `Hatchery <panel@example.com>`: {err}"
            ))
        })?;
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<()> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|err| Error::bad_field("to", format!("`{to}` is not an address: {err}")))?;
        if subject.chars().any(char::is_control) || subject.chars().count() > 200 {
            return Err(Error::bad_field(
                "subject",
                "a subject is one line of at most 200 characters",
            ));
        }
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_string())
            .map_err(|err| Error::bad_request(format!("the message cannot be sent: {err}")))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|err| Error::Node(format!("the mail server did not take the message: {err}")))
    }
}
