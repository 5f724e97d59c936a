//! core-files: Hatchery's file manager, built on the contract's server routes and
//! `node_files` like any third-party plugin could be.
//!
//! - `manager`: Pterodactyl's file API at `/api/client/servers/{server}/files/…`
//!   (list with no entry cap, contents, write, download and upload URLs, rename, copy,
//!   delete, create-folder, chmod, compress, decompress), plus search on the node
//!   (streamed from a signed URL), checksums, and archives browsed, read and extracted
//!   in part. Every file operation runs as the caller, so the host checks their
//!   `file.*` permission on each.
//! - `history`: every save of a text file — through the API or the web editor here,
//!   over SFTP, by an upload or another plugin (heard as `file.written`) — becomes a
//!   revision; diffs between any two, restore.

mod history;
mod manager;
mod paths;
mod revisions;

use hatchery_sdk::{Error, Event, Plugin, Request, Response, export_plugin, host};

#[derive(Default)]
struct CoreFiles;

export_plugin!(CoreFiles);

impl Plugin for CoreFiles {
    fn handle_request(&self, request: Request) -> Result<Response, Error> {
        let route = request.route.as_str();
        match (request.method.as_str(), route) {
            ("GET", "/files/list") => manager::list(&request),
            ("GET", "/files/contents") => manager::contents(&request),
            ("POST", "/files/write") => manager::write(&request),
            ("GET", "/files/download") => manager::download(&request),
            ("GET", "/files/upload") => manager::upload(&request),
            ("PUT", "/files/rename") => manager::rename(&request),
            ("POST", "/files/copy") => manager::copy(&request),
            ("POST", "/files/delete") => manager::delete(&request),
            ("POST", "/files/create-folder") => manager::create_folder(&request),
            ("POST", "/files/chmod") => manager::chmod(&request),
            ("POST", "/files/compress") => manager::compress(&request),
            ("POST", "/files/decompress") => manager::decompress(&request),
            ("GET", "/files/search") => manager::search(&request),
            ("POST", "/files/pull") => manager::pull(&request),
            ("GET", "/files/checksum") => manager::checksum(&request),
            ("GET", "/files/archive") => manager::archive_list(&request),
            ("GET", "/files/archive/contents") => manager::archive_contents(&request),
            ("POST", "/files/archive/extract") => manager::archive_extract(&request),
            ("GET", "/files/history") => revisions::list(&request),
            ("GET", "/files/history/contents") => revisions::contents(&request),
            ("GET", "/files/history/diff") => revisions::diff(&request),
            ("POST", "/files/history/restore") => revisions::restore(&request),
            ("GET", "/files/history/usage") => revisions::usage(&request),
            _ => Ok(Response::not_found()),
        }
    }

    fn handle_event(&self, event: Event) -> Result<(), Error> {
        let payload: serde_json::Value = serde_json::from_str(&event.payload)?;
        match event.name.as_str() {
            "file.written" => revisions::capture(&payload),
            "activity.server.sftp.rename" => revisions::follow_renames(&payload),
            "activity.admin.server.delete" => match payload["subject_id"].as_str() {
                Some(server) => history::forget_server(server),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// The server a route is for, which the host resolved and checked access to.
fn server(request: &Request) -> Result<&str, Error> {
    request
        .server()
        .ok_or_else(|| Error::bad_request("this route belongs to a server"))
}

fn no_content() -> Response {
    Response {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn limits() -> Result<history::Limits, Error> {
    Ok(host::settings::get()?)
}
