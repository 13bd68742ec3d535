//! Sockets through the public API: TCP, UDP and Unix, liveness, and bad
//! input (refused connections, resets, EOF, dropped waits, closed sockets).

use std::cell::Cell;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use jsloop::io::Async;
use jsloop::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use jsloop::time::timeout;

/// Runs `f` on a fresh thread and fails the test if it takes more than 30 s
/// (a hang would otherwise stall the whole test run).
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(30)).expect("the test hung")
}

#[test]
fn echo_round_trips_over_tcp() {
    let served = within_30s(|| {
        jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = jsloop::spawn(async move {
                let mut incoming = listener.incoming();
                let mut served = 0;
                while served < 3 {
                    let mut socket = incoming.next().await.unwrap()?;
                    served += 1;
                    jsloop::spawn(async move {
                        let (reader, mut writer) = socket.split_ref();
                        futures::io::copy(reader, &mut writer).await.unwrap();
                        writer.close().await.unwrap();
                        let _ = socket.peer_addr();
                    });
                }
                io::Result::Ok(served)
            });
            for i in 0..3 {
                let mut client = TcpStream::connect(("127.0.0.1", addr.port())).await?;
                client.set_nodelay(true)?;
                assert!(client.nodelay()?);
                assert_eq!(client.peer_addr()?, addr);
                let message = format!("message {i}");
                client.write_all(message.as_bytes()).await?;
                client.close().await?;
                let mut echoed = String::new();
                client.read_to_string(&mut echoed).await?;
                assert_eq!(echoed, message);
            }
            server.await.unwrap()
        })
    });
    assert_eq!(served.unwrap(), 3);
}

/// `split_ref`: both directions of one stream, borrowed (`&TcpStream` is
/// `AsyncRead + AsyncWrite`).
trait SplitRef {
    fn split_ref(&mut self) -> (&Self, &Self);
}

impl<T> SplitRef for T {
    fn split_ref(&mut self) -> (&Self, &Self) {
        (self, self)
    }
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let error = within_30s(|| {
        jsloop::block_on(async {
            let port = {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap().port()
            };
            TcpStream::connect(("127.0.0.1", port)).await.unwrap_err()
        })
    });
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn a_bad_host_name_is_an_error_that_names_it() {
    let error = within_30s(|| {
        jsloop::block_on(async { TcpStream::connect("no-such-host.invalid:80").await.unwrap_err() })
    });
    assert!(error.to_string().contains("no-such-host.invalid"), "{error}");
}

#[test]
fn binding_an_address_in_use_fails_with_addr_in_use() {
    let error = within_30s(|| {
        jsloop::block_on(async {
            let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = first.local_addr().unwrap();
            TcpListener::bind(addr).await.unwrap_err()
        })
    });
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
}

#[test]
fn reads_after_eof_keep_returning_zero() {
    within_30s(|| {
        jsloop::block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            let mut buf = [0; 8];
            for _ in 0..3 {
                assert_eq!(a.read(&mut buf).await.unwrap(), 0);
            }
        })
    });
}

#[test]
fn a_peer_reset_during_writes_is_an_error_not_a_panic() {
    let error = within_30s(|| {
        jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            // Unread data in its buffer when it closes: the peer resets.
            client.write_all(b"unread").await.unwrap();
            jsloop::time::sleep(Duration::from_millis(20)).await;
            drop(server);
            let chunk = vec![7u8; 64 * 1024];
            loop {
                if let Err(error) = client.write_all(&chunk).await {
                    return error;
                }
            }
        })
    });
    assert!(
        matches!(error.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe),
        "{error:?}"
    );
}

#[test]
fn shutting_a_socket_down_ends_another_tasks_pending_read() {
    let read = within_30s(|| {
        jsloop::block_on(async {
            let (a, _b) = UnixStream::pair().unwrap();
            let a = Rc::new(a);
            let reader = jsloop::spawn({
                let a = a.clone();
                async move {
                    let mut buf = [0; 8];
                    (&*a).read(&mut buf).await
                }
            });
            jsloop::yield_now().await; // the reader is now waiting
            a.shutdown(Shutdown::Both).unwrap();
            reader.await.unwrap()
        })
    });
    assert_eq!(read.unwrap(), 0);
}

#[test]
fn a_dropped_accept_leaves_nothing_keeping_the_loop_alive() {
    within_30s(|| {
        jsloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let gave_up = timeout(Duration::from_millis(5), listener.accept()).await;
            assert!(gave_up.is_err());
            // A connection now wakes nobody, and `run` ends once main does
            // (a leaked waiter would keep it alive forever).
            let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        })
    });
}

#[test]
fn a_pending_accept_keeps_run_alive_until_a_connection_comes() {
    let accepted = within_30s(|| {
        let accepted = Rc::new(Cell::new(false));
        jsloop::run({
            let accepted = accepted.clone();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                jsloop::spawn(async move {
                    listener.accept().await.unwrap();
                    accepted.set(true);
                });
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    std::net::TcpStream::connect(addr).unwrap();
                });
            }
        });
        accepted.get()
    });
    assert!(accepted);
}

#[test]
fn an_unrefd_listener_does_not_keep_run_alive() {
    within_30s(|| {
        jsloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            jsloop::spawn(async move {
                listener.unref();
                let _ = listener.accept().await;
                unreachable!("no one connects");
            });
        })
    });
}

#[test]
fn into_split_halves_work_from_different_tasks_and_the_write_half_ends_the_stream() {
    let echoed = within_30s(|| {
        jsloop::block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let (mut read_half, mut write_half) = a.into_split();
            let writer = jsloop::spawn(async move {
                write_half.write_all(b"from the write half").await.unwrap();
                // dropped here: the write side shuts down
            });
            let mut b = b;
            let mut received = String::new();
            b.read_to_string(&mut received).await.unwrap();
            b.write_all(b"back").await.unwrap();
            writer.await.unwrap();
            let mut back = [0; 4];
            read_half.read_exact(&mut back).await.unwrap();
            (received, back)
        })
    });
    assert_eq!(echoed, ("from the write half".to_string(), *b"back"));
}

#[test]
fn udp_send_to_recv_from_and_connected_send_recv() {
    within_30s(|| {
        jsloop::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            a.send_to(b"one", b_addr).await.unwrap();
            let mut buf = [0; 16];
            assert_eq!(b.recv_from(&mut buf).await.unwrap(), (3, a_addr));
            assert!(a.peer_addr().is_err(), "not connected yet");
            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            a.send(b"two").await.unwrap();
            assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
            assert_eq!(&buf[..3], b"two");
        })
    });
}

#[test]
fn unix_listener_datagrams_and_paths() {
    within_30s(|| {
        let dir = std::env::temp_dir().join(format!("jsloop-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (stream_path, dgram_path) = (dir.join("s.sock"), dir.join("d.sock"));
        jsloop::block_on(async {
            let listener = UnixListener::bind(&stream_path).unwrap();
            assert_eq!(
                UnixListener::bind(&stream_path).unwrap_err().kind(),
                io::ErrorKind::AddrInUse
            );
            let mut client = UnixStream::connect(&stream_path).await.unwrap();
            let mut server = listener.incoming().next().await.unwrap().unwrap();
            client.write_all(b"over unix").await.unwrap();
            client.close().await.unwrap();
            let mut text = String::new();
            server.read_to_string(&mut text).await.unwrap();
            assert_eq!(text, "over unix");

            let receiver = UnixDatagram::bind(&dgram_path).unwrap();
            let sender = UnixDatagram::unbound().unwrap();
            sender.send_to(b"datagram", &dgram_path).await.unwrap();
            let mut buf = [0; 16];
            let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"datagram");
            assert_eq!(
                UnixStream::connect(dir.join("missing.sock")).await.unwrap_err().kind(),
                io::ErrorKind::NotFound
            );
        });
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn async_wraps_any_descriptor_and_readable_waits_for_data() {
    within_30s(|| {
        jsloop::block_on(async {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let (a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
            let waiter = jsloop::spawn(async move {
                a.readable().await.unwrap(); // a new object starts out ready
                let mut buf = [0; 4];
                let n = a.read_with(|mut s| io::Read::read(&mut s, &mut buf)).await.unwrap();
                (n, buf, a.into_inner())
            });
            jsloop::time::sleep(Duration::from_millis(5)).await;
            b.write_all(b"data").await.unwrap();
            let (n, buf, _std) = waiter.await.unwrap();
            assert_eq!((n, &buf), (4, b"data"));
        })
    });
}

#[test]
fn sockets_need_a_runtime() {
    let panic = std::panic::catch_unwind(UnixStream::pair).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("no jsloop runtime is running on this thread")
    );
}

#[test]
fn a_regular_file_cannot_be_made_async() {
    let error = jsloop::block_on(async {
        let file = std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml")?;
        Async::new(file).map(drop)
    })
    .unwrap_err();
    // epoll refuses regular files (EPERM).
    assert_eq!(error.raw_os_error(), Some(1), "{error:?}");
}

#[test]
fn data_and_fin_arriving_together_give_a_short_read_then_eof() {
    let reads = within_30s(|| {
        jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            server.write_all(b"abc").await.unwrap();
            server.close().await.unwrap();
            // Both the data and the FIN are in before the first read.
            jsloop::time::sleep(Duration::from_millis(20)).await;
            let mut buf = [0; 16];
            let first = client.read(&mut buf).await.unwrap();
            let second = client.read(&mut buf).await.unwrap();
            (first, second)
        })
    });
    assert_eq!(reads, (3, 0));
}
