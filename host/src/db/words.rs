//! The domain's words as database columns: each is stored as its text and read back
//! through its parser, so a value the code does not know fails the read loudly.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Postgres, Sqlite};

use crate::domain::vocabulary::ServerStatus;

macro_rules! text_column {
    ($word:ty, $($db:ty),+) => {$(
        impl sqlx::Type<$db> for $word {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <&str as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <&str as sqlx::Type<$db>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, $db> for $word {
            fn decode(value: <$db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as sqlx::Decode<$db>>::decode(value)?;
                Ok(text.parse::<$word>()?)
            }
        }

        impl<'q> sqlx::Encode<'q, $db> for $word {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<$db>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    )+};
}

text_column!(ServerStatus, Sqlite, Postgres);
