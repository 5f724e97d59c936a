//! The wire between Hatchery's panel and its wings, defined once for both sides: the
//! shapes of the file manager's requests and answers (Pterodactyl's, so its clients
//! keep working), of wings' calls to the panel (servers, install scripts, SFTP logins,
//! activity), and the short-lived tokens the panel signs for browsers.

pub mod files;
pub mod remote;
pub mod token;
