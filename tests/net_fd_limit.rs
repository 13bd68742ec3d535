//! `accept` at the descriptor limit: the error (EMFILE) comes back, and the
//! listener keeps working once descriptors are free. Its own test binary,
//! because it lowers the whole process's limit.

use std::io;

use jsloop::net::TcpListener;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

fn open_descriptors() -> u64 {
    // Minus the one `read_dir` itself holds open.
    std::fs::read_dir("/proc/self/fd").expect("procfs").count() as u64 - 1
}

#[test]
fn accept_at_the_descriptor_limit_returns_emfile_then_recovers() {
    let original = getrlimit(Resource::Nofile);
    let outcome = jsloop::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let limit = open_descriptors() + 8;
        setrlimit(Resource::Nofile, Rlimit { current: Some(limit), maximum: original.maximum })?;
        // Connect until the process is out of descriptors: every client
        // waits in the listener's backlog, unaccepted.
        let mut clients = Vec::new();
        let out_of_descriptors = loop {
            match std::net::TcpStream::connect(addr) {
                Ok(client) => clients.push(client),
                Err(error) => break error,
            }
        };
        assert_eq!(out_of_descriptors.raw_os_error(), Some(24), "{out_of_descriptors:?}");
        let emfile = listener.accept().await.map(drop).unwrap_err();
        // Free two descriptors: the next accept works.
        clients.truncate(clients.len() - 2);
        let accepted = listener.accept().await.map(drop);
        setrlimit(Resource::Nofile, original)?;
        io::Result::Ok((emfile, accepted))
    });
    setrlimit(Resource::Nofile, original).unwrap();
    let (emfile, accepted) = outcome.unwrap();
    assert_eq!(emfile.raw_os_error(), Some(24), "{emfile:?}");
    accepted.unwrap();
}
