//! Thread-per-core listeners: `TcpListener::bind_reuseport` and the
//! `TcpListener::builder` options, through the public API. Several
//! listeners share a port only if every one of them set `SO_REUSEPORT`, and
//! the builder's options reach the socket.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::pin::pin;
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::time::timeout;
use rustix::net::sockopt;

/// Runs `main` on a fresh runtime, failing instead of hanging if it takes
/// more than 30 s.
fn run_within_30s<T>(main: impl Future<Output = io::Result<T>>) -> T {
    jsloop::block_on(async { timeout(Duration::from_secs(30), main).await.expect("the test hung") })
        .expect("the test's I/O failed")
}

/// Takes `listener` out of its port's reuseport group at once, before it is
/// dropped. Dropping alone is not enough in a test binary: a thread forking
/// at that moment (the backlog test's `Command`) holds a copy of the
/// descriptor until the child execs, and a connection the kernel hands that
/// copy is lost. On Linux, `shutdown` of a listening socket stops it
/// listening, whoever holds it.
fn stop_listening(listener: impl AsFd) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::net::shutdown(&listener, rustix::net::Shutdown::Read).expect("a listener shuts down");
    drop(listener);
}

#[test]
fn reuseport_listeners_share_a_port_and_each_accepts() {
    run_within_30s(async {
        let first = TcpListener::bind_reuseport("127.0.0.1:0").await?;
        let addr = first.local_addr()?;
        let second = TcpListener::bind_reuseport(addr).await?;
        assert_eq!(second.local_addr()?, addr);

        // The kernel hands the first connection to one of them; stopping that
        // one leaves the other as the port's only listener, so it must take
        // the next connection. Both have then accepted, whatever the hash.
        let client = TcpStream::connect(addr).await?;
        let first_took_it = {
            match select(pin!(first.accept()), pin!(second.accept())).await {
                Either::Left((accepted, _)) => {
                    assert_eq!(accepted?.1, client.local_addr()?);
                    true
                }
                Either::Right((accepted, _)) => {
                    assert_eq!(accepted?.1, client.local_addr()?);
                    false
                }
            }
        };
        let (took_it, remaining) = if first_took_it { (first, second) } else { (second, first) };
        stop_listening(took_it);
        let client = TcpStream::connect(addr).await?;
        let (_socket, peer) = remaining.accept().await?;
        assert_eq!(peer, client.local_addr()?);
        Ok(())
    });
}

/// Accepts forever, answering each connection with `id`.
async fn answer_with(listener: TcpListener, id: u8) -> io::Result<()> {
    loop {
        let (mut socket, _) = listener.accept().await?;
        socket.write_all(&[id]).await?;
    }
}

// Linux balances over a reuseport group by a hash of each connection's
// addresses and ports (FreeBSD and macOS share the port without balancing).
// Each new connection's ephemeral port makes it a fresh draw, so 256
// connections all landing on one of two listeners has odds of 2^-255.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn linux_spreads_connections_over_reuseport_listeners() {
    run_within_30s(async {
        let first = TcpListener::bind_reuseport("127.0.0.1:0").await?;
        let addr = first.local_addr()?;
        let second = TcpListener::bind_reuseport(addr).await?;
        jsloop::spawn(answer_with(first, 0));
        jsloop::spawn(answer_with(second, 1));

        let mut served_by = [0_u32; 2];
        for _ in 0..256 {
            let mut client = TcpStream::connect(addr).await?;
            let mut id = [0];
            client.read_exact(&mut id).await?;
            served_by[usize::from(id[0])] += 1;
            if served_by.iter().all(|&n| n > 0) {
                return Ok(());
            }
        }
        panic!("256 connections all went to one listener: {served_by:?}");
    });
}

#[test]
fn bind_reuseport_on_a_port_bound_without_reuseport_is_addr_in_use() {
    run_within_30s(async {
        let plain = TcpListener::bind("127.0.0.1:0").await?;
        let taken = TcpListener::bind_reuseport(plain.local_addr()?).await.unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");

        // A listener that is not jsloop's, bound by `std`, all the same.
        let std_plain = std::net::TcpListener::bind("127.0.0.1:0")?;
        let taken = TcpListener::bind_reuseport(std_plain.local_addr()?).await.unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        Ok(())
    });
}

#[test]
fn plain_bind_on_a_port_held_with_reuseport_is_addr_in_use() {
    run_within_30s(async {
        let shared = TcpListener::bind_reuseport("127.0.0.1:0").await?;
        let taken = TcpListener::bind(shared.local_addr()?).await.unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        let taken =
            TcpListener::builder().reuse_port(false).bind(shared.local_addr()?).await.unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        Ok(())
    });
}

#[test]
fn builder_defaults_are_those_of_bind() {
    run_within_30s(async {
        let bound = TcpListener::bind("127.0.0.1:0").await?;
        let built = TcpListener::builder().bind("127.0.0.1:0").await?;
        let from_std = std::net::TcpListener::bind("127.0.0.1:0")?;
        for socket in [bound.as_fd(), built.as_fd()] {
            assert_eq!(sockopt::socket_reuseaddr(socket)?, sockopt::socket_reuseaddr(&from_std)?);
            assert!(sockopt::socket_reuseaddr(socket)?, "std sets SO_REUSEADDR on Unix");
            assert!(!sockopt::socket_reuseport(socket)?);
        }
        Ok(())
    });
}

#[test]
fn builder_options_reach_the_socket() {
    run_within_30s(async {
        let listener = TcpListener::builder()
            .reuse_port(true)
            .reuse_address(false)
            .bind("127.0.0.1:0")
            .await?;
        assert!(sockopt::socket_reuseport(listener.as_fd())?);
        assert!(!sockopt::socket_reuseaddr(listener.as_fd())?);

        let listener = TcpListener::bind_reuseport("127.0.0.1:0").await?;
        assert!(sockopt::socket_reuseport(listener.as_fd())?);
        assert!(sockopt::socket_reuseaddr(listener.as_fd())?);

        // `only_v6` is for IPv6 sockets; on an IPv4 address it is ignored.
        let listener = TcpListener::builder().only_v6(true).bind("127.0.0.1:0").await?;
        assert!(listener.local_addr()?.is_ipv4());
        Ok(())
    });
}

/// The `listen` backlog of the socket on `port`, as `ss` reads it from the
/// kernel (its Send-Q column for a listener), or `None` without `ss`.
#[cfg(target_os = "linux")]
fn backlog_of(port: u16) -> Option<u32> {
    let out = std::process::Command::new("ss")
        .args(["-ltn", &format!("sport = :{port}")])
        .output()
        .ok()?;
    let table = String::from_utf8(out.stdout).ok()?;
    // Header, then: State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
    let row = table.lines().find(|line| line.starts_with("LISTEN"))?;
    row.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(target_os = "linux")]
#[test]
fn backlog_reaches_listen_and_defaults_to_binds() {
    run_within_30s(async {
        let std_bound = std::net::TcpListener::bind("127.0.0.1:0")?;
        let Some(std_backlog) = backlog_of(std_bound.local_addr()?.port()) else {
            eprintln!("skipped: no `ss` to read the backlog with");
            return Ok(());
        };
        let bound = TcpListener::bind("127.0.0.1:0").await?;
        assert_eq!(backlog_of(bound.local_addr()?.port()), Some(std_backlog));
        assert_eq!(std_backlog, 128);
        let built = TcpListener::builder().backlog(7).bind("127.0.0.1:0").await?;
        assert_eq!(backlog_of(built.local_addr()?.port()), Some(7));
        Ok(())
    });
}

#[test]
fn reuseport_over_ipv6_when_the_machine_has_it() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback (::1) on this machine");
        return;
    }
    run_within_30s(async {
        let first = TcpListener::bind_reuseport("[::1]:0").await?;
        let addr: SocketAddr = first.local_addr()?;
        assert!(addr.is_ipv6());
        let second = TcpListener::bind_reuseport(addr).await?;
        stop_listening(first);
        let client = TcpStream::connect(addr).await?;
        assert_eq!(second.accept().await?.1, client.local_addr()?);

        // On `::`: Linux marks a socket bound to one IPv6 address (`::1`)
        // IPv6-only whatever was asked, as such a socket can only be.
        for only_v6 in [true, false] {
            let listener = TcpListener::builder().only_v6(only_v6).bind("[::]:0").await?;
            assert_eq!(sockopt::ipv6_v6only(listener.as_fd())?, only_v6);
        }
        Ok(())
    });
}

#[test]
fn bind_std_needs_no_runtime_and_moves_to_another_loop() {
    let reuse_port = TcpListener::builder().reuse_port(true);
    let first = reuse_port.bind_std("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = reuse_port.bind_std(addr).unwrap();
    assert!(sockopt::socket_reuseport(&second).unwrap());
    stop_listening(first);
    let served = std::thread::spawn(move || {
        run_within_30s(async move {
            let listener = TcpListener::from_std(second)?;
            let (_socket, peer) = listener.accept().await?;
            Ok(peer)
        })
    });
    let client = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(served.join().unwrap(), client.local_addr().unwrap());
}

#[cfg(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))]
#[test]
fn reuse_port_without_so_reuseport_is_unsupported() {
    let refused = TcpListener::builder()
        .reuse_port(true)
        .bind_std("127.0.0.1:0".parse().unwrap())
        .unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::Unsupported, "{refused}");
    assert!(refused.to_string().contains("SO_REUSEPORT"), "{refused}");
}
