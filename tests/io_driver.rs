//! The I/O driver choice: `Builder::io_driver`, `JSLOOP_IO`, the fallback
//! when io_uring is refused, and the same socket behaviour on both drivers.
//!
//! Tests that need their own environment (a `JSLOOP_IO` value, a seccomp
//! filter refusing io_uring) run this binary again as a child process with
//! one test selected, so the rest of the suite never sees them.

use std::io;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use jsloop::{IoDriver, Runtime};

/// Set in the child process: what it is there to check.
const CHILD: &str = "JSLOOP_IO_DRIVER_TEST_CHILD";

/// Runs test `name` of this binary in a child with `env` set, and returns
/// its combined output; panics if the child's test failed.
fn run_child(name: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([name, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, "1");
    command.env_remove("JSLOOP_IO");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child {name} failed:\n{text}");
    assert!(text.contains("1 passed"), "child {name} ran no test:\n{text}");
    text
}

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// The drivers this machine can run, each forced.
fn drivers() -> Vec<IoDriver> {
    let mut drivers = vec![IoDriver::Epoll];
    match Runtime::builder().io_driver(IoDriver::IoUring).build() {
        Ok(_) => drivers.push(IoDriver::IoUring),
        Err(error) => eprintln!("io_uring is not tested here: {error}"),
    }
    drivers
}

fn runtime(driver: IoDriver) -> Runtime {
    let rt = Runtime::builder().io_driver(driver).build().unwrap();
    assert_eq!(rt.io_driver(), driver);
    rt
}

#[test]
fn tcp_udp_and_unix_sockets_behave_the_same_on_every_driver() {
    for driver in drivers() {
        let rt = runtime(driver);
        let echoed = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = jsloop::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = vec![0; 5];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
                stream.close().await.unwrap();
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"hello").await.unwrap();
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            server.await.unwrap();

            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.send_to(b"datagram", b.local_addr().unwrap()).await.unwrap();
            let mut buf = [0; 16];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"datagram");

            let (mut x, mut y) = UnixStream::pair().unwrap();
            x.write_all(b"unix").await.unwrap();
            drop(x);
            let mut got = Vec::new();
            y.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"unix");
            reply
        });
        assert_eq!(echoed, b"hello", "{driver:?}");
    }
}

#[test]
fn a_socket_dropped_while_its_peer_waits_gives_the_peer_eof_not_a_hang() {
    // The ring holds a reference to a socket for as long as a poll is armed
    // on it: dropping the socket must take the poll off, or the peer would
    // never see the close.
    for driver in drivers() {
        let read = runtime(driver).block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            read_then(Rc::new(a), move || drop(b)).await
        });
        assert_eq!(read.unwrap(), 0, "{driver:?}");
    }
}

#[test]
fn a_socket_dropped_on_another_thread_closes_while_its_loop_is_busy() {
    // On the ring the end of a removed poll and of a cancelled `RECV` runs
    // on the loop's thread (`COOP_TASKRUN`: at its next entry into the
    // kernel, not by interrupting it), and the socket closes only then. A
    // loop busy in a callback that makes no syscall still enters the
    // kernel at its next timer tick: the peer sees the close long before
    // the callback ends.
    for driver in drivers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        runtime(driver).block_on(async {
            let mut a = TcpStream::connect(addr).await.unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            let mut buf = [0; 8];
            // Arms its reads (a poll, and on the ring a `RECV`).
            let read = jsloop::time::timeout(Duration::from_millis(10), a.read(&mut buf)).await;
            assert!(read.is_err(), "{driver:?}: nothing was sent");
            let closer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                drop(a);
            });
            let watcher = std::thread::spawn(move || {
                peer.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut buf = [0; 8];
                let read = std::io::Read::read(&mut peer, &mut buf);
                (read.map_err(|error| error.kind()), std::time::Instant::now())
            });
            // Busy, without a syscall, for 2 s.
            let start = std::time::Instant::now();
            let end = start + Duration::from_secs(2);
            while std::time::Instant::now() < end {
                std::hint::spin_loop();
            }
            closer.join().unwrap();
            let (read, seen) = watcher.join().unwrap();
            assert_eq!(read, Ok(0), "{driver:?}");
            assert!(seen < end, "{driver:?}: the close waited for the busy loop");
        });
    }
}

/// Reads once from `stream` in a task, runs `end` 10 ms later, and returns
/// what the read gave (a read still waiting 20 s later is a panic).
async fn read_then<S: 'static>(stream: Rc<S>, end: impl FnOnce()) -> io::Result<usize>
where
    for<'a> &'a S: futures_lite::AsyncRead,
{
    let reader = jsloop::spawn(async move {
        let mut buf = [0; 8];
        let mut stream = &*stream;
        stream.read(&mut buf).await
    });
    jsloop::time::sleep(Duration::from_millis(10)).await;
    end();
    jsloop::time::timeout(Duration::from_secs(20), reader).await.expect("the reader hung").unwrap()
}

#[test]
fn many_connections_opened_and_closed_leave_nothing_behind() {
    // Keys are reused; a removed poll's late completions must not reach the
    // socket that gets its key next.
    for driver in drivers() {
        let rt = runtime(driver);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = jsloop::spawn(async move {
                for _ in 0..200 {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut byte = [0];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&byte).await.unwrap();
                }
            });
            for i in 0..200u32 {
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(&[i as u8]).await.unwrap();
                let mut byte = [0];
                client.read_exact(&mut byte).await.unwrap();
                assert_eq!(byte[0], i as u8);
            }
            server.await.unwrap();
        });
        assert_eq!(rt.pending_tasks(), 0);
    }
}

#[test]
fn a_regular_file_is_refused_on_every_driver() {
    for driver in drivers() {
        let rt = runtime(driver);
        let error = rt
            .block_on(async {
                let file =
                    std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml")?;
                jsloop::io::Async::new(file).map(drop)
            })
            .unwrap_err();
        assert_eq!(error.raw_os_error(), Some(1), "{driver:?}: {error:?}");
    }
}

#[test]
fn the_environment_forces_a_driver_and_a_bad_value_is_an_error() {
    if in_child() {
        let rt = Runtime::new();
        match std::env::var("JSLOOP_IO").unwrap().as_str() {
            "epoll" => assert_eq!(rt.unwrap().io_driver(), IoDriver::Epoll),
            // An explicit choice is not overridden by the environment.
            "io_uring" => {
                let rt = Runtime::builder().io_driver(IoDriver::Epoll).build().unwrap();
                assert_eq!(rt.io_driver(), IoDriver::Epoll);
            }
            _ => {
                let error = rt.unwrap_err();
                assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
                assert!(error.to_string().contains("JSLOOP_IO=\"bogus\""), "{error}");
                println!("bad value: {error}");
            }
        }
        return;
    }
    let name = "the_environment_forces_a_driver_and_a_bad_value_is_an_error";
    run_child(name, &[("JSLOOP_IO", "epoll")]);
    run_child(name, &[("JSLOOP_IO", "io_uring")]);
    assert!(run_child(name, &[("JSLOOP_IO", "bogus")]).contains("bad value"));
}

#[test]
fn auto_runs_on_io_uring_where_the_kernel_has_it_all() {
    // Linux 6.0 has everything the ring's stream sockets need; where it
    // also lets this process set a ring up, `Auto` takes it.
    if in_child() {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut numbers = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = numbers.next().unwrap().parse().unwrap();
        let ring = Runtime::builder().io_driver(IoDriver::IoUring).build();
        let auto = Runtime::new().unwrap().io_driver();
        match (major, ring) {
            (6.., Ok(_)) => assert_eq!(auto, IoDriver::IoUring, "Linux {release}"),
            (_, Err(_)) => assert_eq!(auto, IoDriver::Epoll, "Linux {release}"),
            // Before 6.0 either, as backports give (RHEL 9's 5.14, say).
            (_, Ok(_)) => {}
        }
        println!("auto: {auto:?}");
        return;
    }
    let output = run_child("auto_runs_on_io_uring_where_the_kernel_has_it_all", &[]);
    assert!(output.contains("auto: "), "{output}");
}

#[test]
fn io_uring_refused_leaves_epoll_working_and_forcing_it_says_why() {
    if in_child() {
        refuse_io_uring_setup();
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.io_driver(), IoDriver::Epoll, "Auto needs no io_uring");
        // The fallback runtime does I/O.
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let accept = jsloop::spawn(async move { listener.accept().await.map(drop) });
            TcpStream::connect(addr).await.unwrap();
            accept.await.unwrap().unwrap();
        });
        let error = Runtime::builder().io_driver(IoDriver::IoUring).build().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error:?}");
        assert!(error.to_string().contains("io_uring is unavailable"), "{error}");
        println!("forced: {error}");
        return;
    }
    let output = run_child("io_uring_refused_leaves_epoll_working_and_forcing_it_says_why", &[]);
    assert!(output.contains("forced: jsloop: io_uring is unavailable"), "{output}");
}

/// Installs a seccomp filter on this process that fails `io_uring_setup`
/// with `EPERM`, as container runtimes' default profiles do.
fn refuse_io_uring_setup() {
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    // offsetof(struct seccomp_data, nr)
    let filter = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_io_uring_setup as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
    ];
    let program = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
    // SAFETY: plain prctl calls; `program` and `filter` outlive the call,
    // which copies the filter into the kernel.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        assert_eq!(
            libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program as *const _),
            0,
            "seccomp: {}",
            io::Error::last_os_error()
        );
    }
}

#[test]
fn the_driver_the_environment_forces_builds_or_says_it_is_unavailable() {
    // `.ci/run` runs this with `JSLOOP_IO=io_uring` to learn whether the
    // machine can run the io_uring pass: the marker below means it cannot.
    let Ok(forced) = std::env::var("JSLOOP_IO") else {
        // Unset: which driver `Auto` picks here, for `.ci/run` to print.
        println!("AUTO_DRIVER={:?}", Runtime::new().unwrap().io_driver());
        return;
    };
    match Runtime::new() {
        Ok(rt) => {
            let expected = if forced == "io_uring" { IoDriver::IoUring } else { IoDriver::Epoll };
            assert_eq!(rt.io_driver(), expected);
        }
        Err(error)
            if forced == "io_uring" && error.to_string().contains("io_uring is unavailable") =>
        {
            println!("IO_URING_UNAVAILABLE: {error}");
        }
        Err(error) => panic!("JSLOOP_IO={forced}: {error}"),
    }
}

// --- stream reads through the ring ---------------------------------------
// On io_uring a stream socket's reads come from one multishot `RECV` into
// the loop's shared provided buffers; each test runs on every driver, so
// the ring must read exactly what a socket read would.

/// Byte `at` of what connection `id` sends: a stream that shows any loss,
/// duplication or reordering, also across connections.
fn pattern(id: usize, at: usize) -> u8 {
    ((id * 7 + at) % 251) as u8
}

/// Linger 0: closing `socket` sends a reset, not a FIN.
fn reset_on_close(socket: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid option of the right size on an open socket.
    let set = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0);
}

/// A connected TCP pair on the current runtime.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) =
        futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn a_thousand_connections_sending_at_once_exhaust_the_buffers_and_lose_nothing() {
    // 1,000 × 32 KiB in flight against a ring of 256 × 8 KiB buffers: most
    // `RECV`s find none (`ENOBUFS`) and wait for the next reap's. Every byte
    // must arrive once, in order, on its own connection. (Both ends of each
    // connection live in this process, whose descriptor limit here is
    // 20,000: 10,000 connections would need as many again.)
    const CONNECTIONS: usize = 1000;
    const BYTES: usize = 32 * 1024;
    for driver in drivers() {
        let rt = runtime(driver);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = jsloop::spawn(async move {
                let mut readers = Vec::new();
                for _ in 0..CONNECTIONS {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    readers.push(jsloop::spawn(async move {
                        let mut id = [0; 2];
                        stream.read_exact(&mut id).await.unwrap();
                        let id = usize::from(u16::from_le_bytes(id));
                        let mut got = Vec::new();
                        stream.read_to_end(&mut got).await.unwrap();
                        assert_eq!(got.len(), BYTES, "connection {id}");
                        let first_wrong = (0..BYTES).find(|&at| got[at] != pattern(id, at));
                        assert_eq!(first_wrong, None, "connection {id}: a byte lost or moved");
                    }));
                }
                for reader in readers {
                    reader.await.unwrap();
                }
            });
            let mut writers = Vec::new();
            for id in 0..CONNECTIONS {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                writers.push(jsloop::spawn(async move {
                    let data: Vec<u8> = (0..BYTES).map(|at| pattern(id, at)).collect();
                    stream.write_all(&(id as u16).to_le_bytes()).await.unwrap();
                    stream.write_all(&data).await.unwrap();
                    stream.close().await.unwrap();
                }));
            }
            for writer in writers {
                writer.await.unwrap();
            }
            jsloop::time::timeout(Duration::from_secs(120), server)
                .await
                .expect("the readers hung")
                .unwrap();
        });
    }
}

#[test]
fn a_read_dropped_while_its_recv_is_in_flight_leaves_the_bytes_for_the_next_read() {
    for driver in drivers() {
        let rt = runtime(driver);
        let got = rt.block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            let mut buf = [0; 16];
            // The first read arms the `RECV`; nothing comes, and the read
            // future is dropped with the request in flight.
            let gave_up = jsloop::time::timeout(Duration::from_millis(20), a.read(&mut buf)).await;
            assert!(gave_up.is_err(), "{driver:?}: a read with nothing sent returned");
            b.write_all(b"after").await.unwrap();
            let n = a.read(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        assert_eq!(got, b"after", "{driver:?}");
    }
}

#[test]
fn a_reader_that_falls_behind_pauses_the_ring_and_nothing_is_lost() {
    // 4 MiB while the reader sleeps: far over what the driver queues per
    // socket (256 KiB) before it stops receiving for it.
    const BYTES: usize = 4 << 20;
    for driver in drivers() {
        let rt = runtime(driver);
        rt.block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            let mut first = [0; 1];
            b.write_all(&[pattern(1, 0)]).await.unwrap();
            a.read_exact(&mut first).await.unwrap();
            let writer = jsloop::spawn(async move {
                let data: Vec<u8> = (1..BYTES).map(|at| pattern(1, at)).collect();
                b.write_all(&data).await.unwrap();
                b.close().await.unwrap();
            });
            jsloop::time::sleep(Duration::from_millis(100)).await;
            let mut got = first.to_vec();
            a.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert_eq!(got.len(), BYTES, "{driver:?}");
            let first_wrong = (0..BYTES).find(|&at| got[at] != pattern(1, at));
            assert_eq!(first_wrong, None, "{driver:?}: a byte lost or moved");
        });
    }
}

#[test]
fn a_peer_that_resets_gives_its_bytes_then_an_error_then_eof() {
    use std::io::Write;
    for driver in drivers() {
        let rt = runtime(driver);
        let (got, ended) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            // The peer is a plain socket: its options are set by hand.
            let mut b = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut a, _) = listener.accept().await.unwrap();
            let mut byte = [0; 1];
            b.write_all(b"x").unwrap();
            a.read_exact(&mut byte).await.unwrap();
            b.write_all(b"abc").unwrap();
            jsloop::time::sleep(Duration::from_millis(20)).await;
            reset_on_close(&b);
            drop(b);
            let mut got = Vec::new();
            let mut buf = [0; 16];
            let ended = loop {
                match jsloop::time::timeout(Duration::from_secs(20), a.read(&mut buf)).await {
                    Err(_) => panic!("{driver:?}: a read after the reset hung"),
                    Ok(Ok(0)) => break None,
                    Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                    Ok(Err(error)) => break Some(error.kind()),
                }
            };
            let after = a.read(&mut buf).await;
            assert_eq!(after.unwrap(), 0, "{driver:?}: after the error the stream reads as ended");
            (got, ended)
        });
        assert!(b"abc".starts_with(&got), "{driver:?}: {got:?}");
        assert_eq!(ended, Some(io::ErrorKind::ConnectionReset), "{driver:?}");
    }
}

#[test]
fn a_socket_shut_down_by_one_task_while_another_reads_ends_the_read() {
    for driver in drivers() {
        let read = runtime(driver).block_on(async {
            let (a, _b) = tcp_pair().await;
            let a = Rc::new(a);
            let shut_down = {
                let a = a.clone();
                move || a.shutdown(std::net::Shutdown::Both).unwrap()
            };
            read_then(a, shut_down).await
        });
        assert_eq!(read.unwrap(), 0, "{driver:?}");
    }
}

#[test]
fn a_socket_moved_to_another_loop_reads_what_its_old_loop_received_first() {
    for driver in drivers() {
        let first = runtime(driver);
        let (a, mut b) = first.block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            b.write_all(b"x").await.unwrap();
            let mut byte = [0; 1];
            a.read_exact(&mut byte).await.unwrap();
            // On io_uring the `RECV` is armed now, and "first " is taken by
            // it while this loop no longer runs: queued in the old loop's
            // driver, in a completion nobody reaped, or still in the
            // socket, it must come first on the new loop.
            b.write_all(b"first ").await.unwrap();
            (a, b)
        });
        let other = std::thread::spawn(move || {
            let second = runtime(driver);
            second.block_on(async move {
                let mut a = a;
                let mut got = Vec::new();
                a.read_to_end(&mut got).await.unwrap();
                got
            })
        });
        first.block_on(async move {
            jsloop::time::sleep(Duration::from_millis(20)).await;
            b.write_all(b"second").await.unwrap();
            b.close().await.unwrap();
        });
        assert_eq!(other.join().unwrap(), b"first second", "{driver:?}");
    }
}

#[test]
fn a_runtime_dropped_with_reads_in_flight_frees_everything() {
    // Readers parked on the ring when the runtime goes, and one socket that
    // outlives it with received bytes unread: the ring cancels every
    // request before its buffers are freed (`.ci/run` runs this under
    // valgrind).
    for driver in drivers() {
        let rt = runtime(driver);
        let (kept, _peer) = rt.block_on(async {
            for _ in 0..8 {
                let (mut a, b) = tcp_pair().await;
                jsloop::spawn(async move {
                    let _peer = b;
                    let mut buf = [0; 8];
                    let _ = a.read(&mut buf).await;
                });
            }
            let (mut kept, mut peer) = tcp_pair().await;
            peer.write_all(b"xunread").await.unwrap();
            let mut byte = [0; 1];
            kept.read_exact(&mut byte).await.unwrap();
            jsloop::time::sleep(Duration::from_millis(10)).await;
            (kept, peer)
        });
        drop(rt);
        drop(kept);
    }
}

/// `BYTES` of connection `id`'s pattern, written by `writer` in chunks of
/// growing size (1 byte to 96 KiB), none flushed.
async fn write_pattern(
    writer: &mut (impl futures_lite::AsyncWrite + Unpin),
    id: usize,
    bytes: usize,
) {
    let data: Vec<u8> = (0..bytes).map(|at| pattern(id, at)).collect();
    let mut at = 0;
    let mut chunk = 1;
    while at < bytes {
        let end = (at + chunk).min(bytes);
        writer.write_all(&data[at..end]).await.unwrap();
        at = end;
        chunk = (chunk * 3).min(96 * 1024);
    }
}

/// Reads `reader` to its end and checks it is `bytes` of `id`'s pattern.
async fn read_pattern(
    reader: &mut (impl futures_lite::AsyncRead + Unpin),
    id: usize,
    bytes: usize,
) {
    let mut got = Vec::new();
    let read = jsloop::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut got)).await;
    read.expect("the reader hung").unwrap();
    assert_eq!(got.len(), bytes, "bytes lost or added");
    let first_wrong = (0..bytes).find(|&at| got[at] != pattern(id, at));
    assert_eq!(first_wrong, None, "a byte lost or moved");
}

#[test]
fn writes_arrive_in_order_and_a_writer_ahead_of_its_reader_waits() {
    // 4 MiB while the reader sleeps: far more than the socket buffers and
    // the write-behind buffer (256 KiB) hold, so writes wait for room.
    const BYTES: usize = 4 << 20;
    for driver in drivers() {
        runtime(driver).block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            let writer = jsloop::spawn(async move {
                write_pattern(&mut a, 3, BYTES).await;
                a.flush().await.unwrap();
                a.close().await.unwrap();
                a
            });
            jsloop::time::sleep(Duration::from_millis(100)).await;
            assert!(!writer.is_finished(), "{driver:?}: 4 MiB went nowhere");
            read_pattern(&mut b, 3, BYTES).await;
            writer.await.unwrap();
        });
    }
}

#[test]
fn a_flush_returns_once_the_kernel_took_every_byte() {
    for driver in drivers() {
        runtime(driver).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut a, _) = listener.accept().await.unwrap();
            write_pattern(&mut a, 4, 200_000).await;
            a.flush().await.unwrap();
            // The bytes are the kernel's now: a blocking read sees them
            // all while this loop does not run (a timeout, not a hang, if
            // some were still queued in user space).
            peer.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut got = vec![0; 200_000];
            std::io::Read::read_exact(&mut peer, &mut got).unwrap();
            assert!((0..got.len()).all(|at| got[at] == pattern(4, at)), "{driver:?}");
        });
    }
}

#[test]
fn a_peer_that_resets_with_writes_queued_fails_the_next_write_or_flush() {
    use std::io::Write;
    for driver in drivers() {
        runtime(driver).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut b = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (mut a, _) = listener.accept().await.unwrap();
            b.write_all(b"x").unwrap();
            let mut byte = [0; 1];
            a.read_exact(&mut byte).await.unwrap();
            a.write_all(b"first").await.unwrap();
            a.flush().await.unwrap();
            reset_on_close(&b);
            drop(b);
            jsloop::time::sleep(Duration::from_millis(20)).await;
            // The writes go on being accepted (queued) until the failed
            // send is seen; then every write and flush says so.
            let mut failed = None;
            for _ in 0..1000 {
                let wrote = a.write_all(&[7; 4096]).await;
                let flushed = a.flush().await;
                if let Err(error) = wrote.and(flushed) {
                    failed = Some(error.kind());
                    break;
                }
            }
            let failed =
                failed.unwrap_or_else(|| panic!("{driver:?}: writes to a reset peer never failed"));
            let broken = [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe];
            assert!(broken.contains(&failed), "{driver:?}: {failed:?}");
            let again = a.write_all(b"again").await.unwrap_err();
            assert!(broken.contains(&again.kind()), "{driver:?}: {again:?}");
            // Closing the broken stream reports or ignores the error, but
            // returns; dropping it then frees everything.
            let _ = a.close().await;
        });
    }
}

#[test]
fn a_socket_dropped_with_bytes_unsent_still_delivers_them_then_eof() {
    const BYTES: usize = 2 << 20;
    for driver in drivers() {
        runtime(driver).block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            // Dropped without a flush or close, with its last writes still
            // in the write-behind buffer (the reader has not started).
            let writer = jsloop::spawn(async move { write_pattern(&mut a, 5, BYTES).await });
            let reader = jsloop::spawn(async move { read_pattern(&mut b, 5, BYTES).await });
            writer.await.unwrap();
            reader.await.unwrap();
        });
    }
}

#[test]
fn a_loop_left_with_only_a_dropped_sockets_sends_delivers_them_before_it_ends() {
    // Nothing is registered once the socket is dropped, but its last bytes
    // are still going out: the loop must wait for them in its driver, not
    // sleep on the futex an idle loop sleeps on (where no completion
    // reaches it: the peer would wait for ever). The peer is a plain
    // thread, so nothing else keeps the loop in its driver.
    const BYTES: usize = 1 << 20;
    for driver in drivers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let peer = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            // Late, so that the writer's last bytes are still queued when
            // it is dropped.
            std::thread::sleep(Duration::from_millis(200));
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut socket, &mut got).unwrap();
            let _ = done.send(got);
        });
        let loop_thread = std::thread::spawn(move || {
            runtime(driver).run(async move {
                let mut socket = TcpStream::connect(addr).await.unwrap();
                write_pattern(&mut socket, 9, BYTES).await;
            });
        });
        let got = finished.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            panic!("{driver:?}: the peer never got the end of the bytes (the loop slept on)")
        });
        assert_eq!(got.len(), BYTES, "{driver:?}: bytes lost");
        assert_eq!((0..BYTES).find(|&at| got[at] != pattern(9, at)), None, "{driver:?}");
        loop_thread.join().unwrap();
        peer.join().unwrap();
    }
}

#[test]
fn a_shutdown_or_a_dropped_write_half_waits_for_the_bytes_written_before_it() {
    const BYTES: usize = 1 << 20;
    for driver in drivers() {
        runtime(driver).block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            let writer = jsloop::spawn(async move {
                write_pattern(&mut a, 6, BYTES).await;
                a.shutdown(std::net::Shutdown::Write).unwrap();
                let late = a.write_all(b"late").await.unwrap_err();
                assert_eq!(late.kind(), io::ErrorKind::BrokenPipe, "{driver:?}");
                // Half closed: the read side still works.
                let mut reply = Vec::new();
                a.read_to_end(&mut reply).await.unwrap();
                reply
            });
            read_pattern(&mut b, 6, BYTES).await;
            b.write_all(b"reply").await.unwrap();
            b.close().await.unwrap();
            assert_eq!(writer.await.unwrap(), b"reply", "{driver:?}");

            let (a, mut b) = tcp_pair().await;
            let (mut read, mut write) = a.into_split();
            let writer = jsloop::spawn(async move {
                write_pattern(&mut write, 7, BYTES).await;
            });
            read_pattern(&mut b, 7, BYTES).await;
            writer.await.unwrap();
            b.write_all(b"still open").await.unwrap();
            drop(b);
            let mut reply = Vec::new();
            read.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"still open", "{driver:?}");
        });
    }
}

#[test]
fn a_socket_moved_to_another_loop_sends_what_its_old_loop_had_queued_first() {
    const BYTES: usize = 1 << 20;
    for driver in drivers() {
        let first = runtime(driver);
        let (a, b) = first.block_on(async {
            let (mut a, b) = tcp_pair().await;
            // Nobody reads: the last of these are still queued, or in a
            // `SEND` in flight, when this loop stops.
            write_pattern(&mut a, 8, BYTES - 4).await;
            (a, b)
        });
        let other = std::thread::spawn(move || {
            runtime(driver).block_on(async move {
                let mut a = a;
                let tail: Vec<u8> = (BYTES - 4..BYTES).map(|at| pattern(8, at)).collect();
                a.write_all(&tail).await.unwrap();
                a.close().await.unwrap();
            })
        });
        first.block_on(async move {
            let mut b = b;
            read_pattern(&mut b, 8, BYTES).await;
        });
        other.join().unwrap();
    }
}

#[test]
fn a_runtime_dropped_with_sends_in_flight_frees_everything() {
    // Writers parked on full buffers, peers that never read, and a socket
    // that outlives the runtime with bytes queued: every `SEND` completes
    // or is cancelled before the ring and its buffers go (`.ci/run` runs
    // this under valgrind).
    for driver in drivers() {
        let rt = runtime(driver);
        let (kept, peer) = rt.block_on(async {
            for id in 0..4 {
                let (mut a, b) = tcp_pair().await;
                jsloop::spawn(async move {
                    let _peer = b;
                    write_pattern(&mut a, id, 8 << 20).await;
                });
            }
            let (mut kept, peer) = tcp_pair().await;
            write_pattern(&mut kept, 9, 1 << 20).await;
            jsloop::time::sleep(Duration::from_millis(10)).await;
            (kept, peer)
        });
        drop(rt);
        drop(kept);
        drop(peer);
    }
}

/// Connects `n` blocking clients to `addr`; each handshake completes in the
/// listener's backlog, accepted or not.
fn connect_clients(addr: std::net::SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    (0..n).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect()
}

#[test]
fn a_listener_moved_to_another_loop_accepts_what_its_old_loop_queued_first() {
    for driver in drivers() {
        let first = runtime(driver);
        let (listener, clients) = first.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = connect_clients(addr, 1);
            // On io_uring the first accept arms the listener's `ACCEPT`,
            // which then takes the next three while this loop runs: they
            // wait in its queue, not in the kernel's backlog.
            let (_, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, clients[0].local_addr().unwrap());
            clients.extend(connect_clients(addr, 3));
            jsloop::time::sleep(Duration::from_millis(20)).await;
            (listener, clients)
        });
        let expected: Vec<_> = clients[1..].iter().map(|c| c.local_addr().unwrap()).collect();
        let addr = listener.local_addr().unwrap();
        let other = std::thread::spawn(move || {
            runtime(driver).block_on(async move {
                let mut peers = Vec::new();
                for _ in 0..3 {
                    peers.push(listener.accept().await.unwrap().1);
                }
                // One that arrives on the new loop, through its own driver.
                let late = std::net::TcpStream::connect(addr).unwrap();
                let (_, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, late.local_addr().unwrap(), "{driver:?}");
                peers
            })
        });
        assert_eq!(other.join().unwrap(), expected, "{driver:?}");
    }
}

#[test]
fn more_connections_than_the_accept_queue_holds_are_each_accepted_once() {
    for driver in drivers() {
        runtime(driver).block_on(async {
            let listener = TcpListener::builder().backlog(1024).bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = connect_clients(addr, 1);
            listener.accept().await.unwrap();
            // 300 at once: on io_uring the `ACCEPT` fills the listener's
            // queue, pauses, and goes on as the server catches up.
            clients.extend(connect_clients(addr, 300));
            jsloop::time::sleep(Duration::from_millis(20)).await;
            let mut peers = Vec::new();
            for _ in 0..300 {
                peers.push(listener.accept().await.unwrap().1);
                if peers.len() % 50 == 0 {
                    jsloop::time::sleep(Duration::from_millis(1)).await;
                }
            }
            let mut expected: Vec<_> =
                clients[1..].iter().map(|c| c.local_addr().unwrap()).collect();
            peers.sort();
            expected.sort();
            assert_eq!(peers, expected, "{driver:?}");
        });
    }
}

#[test]
fn connections_queued_for_a_closed_listener_are_closed_not_kept() {
    for driver in drivers() {
        let mut clients = runtime(driver).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = connect_clients(addr, 1);
            listener.accept().await.unwrap();
            clients.extend(connect_clients(addr, 3));
            jsloop::time::sleep(Duration::from_millis(20)).await;
            drop(listener);
            clients
        });
        // Each never-accepted client hears its end (EOF or a reset), as
        // from a closed listener's backlog, instead of waiting for ever.
        for client in &mut clients[1..] {
            client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            match io::Read::read(client, &mut [0; 1]) {
                Ok(0) => {}
                Ok(n) => panic!("{driver:?}: {n} bytes from nobody"),
                Err(error) => assert_ne!(
                    error.kind(),
                    io::ErrorKind::WouldBlock,
                    "{driver:?}: the connection was kept open"
                ),
            }
        }
    }
}

#[test]
fn a_connection_reset_before_it_is_accepted_leaves_the_next_one_acceptable() {
    for driver in drivers() {
        runtime(driver).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let first = connect_clients(addr, 1);
            listener.accept().await.unwrap();
            let reset = connect_clients(addr, 1).remove(0);
            reset_on_close(&reset);
            drop(reset);
            let next = connect_clients(addr, 1).remove(0);
            // The reset one may come first (a socket's own accept returns
            // it; the ring, which cannot name its peer any more, skips
            // it): the next one comes, and no error.
            let want = next.local_addr().unwrap();
            for _ in 0..2 {
                let (_, peer) = listener.accept().await.unwrap();
                if peer == want {
                    drop(first);
                    return;
                }
            }
            panic!("{driver:?}: the connection after a reset one was not accepted");
        });
    }
}

#[test]
fn a_server_that_drains_a_full_accept_queue_at_once_still_gets_the_rest() {
    // The queue fills (64) and its `ACCEPT` is cancelled; a server that
    // takes all 64 before the cancel's completion is reaped then waits:
    // the request must go on by itself, or the rest stay in the backlog.
    for driver in drivers() {
        runtime(driver).block_on(async {
            let listener = TcpListener::builder().backlog(1024).bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let _first = connect_clients(addr, 1);
            listener.accept().await.unwrap();
            let clients = connect_clients(addr, 200);
            let mut accepted = 0;
            while accepted < clients.len() {
                let next = jsloop::time::timeout(Duration::from_secs(10), listener.accept()).await;
                next.unwrap_or_else(|_| panic!("{driver:?}: stuck after {accepted}")).unwrap();
                accepted += 1;
            }
        });
    }
}

/// A listener that completes no more handshakes: its accept queue (backlog
/// 0 holds one connection) is full and nobody accepts, so the kernel drops
/// further SYNs and a connect to it stays in flight for seconds.
fn full_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    let listener = jsloop::net::TcpListener::builder()
        .backlog(0)
        .bind_std("127.0.0.1:0".parse().unwrap())
        .unwrap();
    let addr = listener.local_addr().unwrap();
    // The queue holds one or two, depending on a race in the kernel; a
    // third would block, so the rest connect on the loop.
    let filled = vec![std::net::TcpStream::connect(addr).unwrap()];
    (listener, filled)
}

#[test]
fn a_connect_dropped_in_flight_is_cancelled_and_the_loop_goes_on() {
    // On io_uring the `CONNECT` holds its address until its completion:
    // dropped by a timeout, it is cancelled and the address kept until the
    // cancel ends; one left in flight as the runtime goes is cancelled and
    // reaped by its drop (`.ci/run` runs this under valgrind).
    for driver in drivers() {
        let (full, _filled) = full_listener();
        let addr = full.local_addr().unwrap();
        let rt = runtime(driver);
        let timed_out = rt.block_on(async move {
            let attempts = (0..4).map(|_| {
                jsloop::time::timeout(Duration::from_millis(300), TcpStream::connect(addr))
            });
            let outcomes = futures::future::join_all(attempts).await;
            // Left in flight: the runtime is dropped with it.
            jsloop::spawn(async move {
                let _ = TcpStream::connect(addr).await;
            });
            let (mut a, mut b) = tcp_pair().await;
            a.write_all(b"after").await.unwrap();
            let mut got = [0; 5];
            b.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"after", "{driver:?}");
            outcomes.iter().filter(|outcome| outcome.is_err()).count()
        });
        assert!(timed_out >= 1, "{driver:?}: every connect to a full listener finished");
        drop(rt);
    }
}

/// A connect to `addr` polled once on `rt` (on io_uring its `CONNECT` is
/// queued there) and handed back to be awaited elsewhere.
fn connect_polled_once(
    rt: &Runtime,
    addr: std::net::SocketAddr,
) -> std::pin::Pin<Box<impl std::future::Future<Output = io::Result<TcpStream>> + Send + use<>>> {
    let driver = rt.io_driver();
    #[allow(clippy::async_yields_async)] // The connect goes on elsewhere.
    rt.block_on(async move {
        let mut connecting = Box::pin(TcpStream::connect(addr));
        assert!(futures::poll!(connecting.as_mut()).is_pending(), "{driver:?}");
        connecting
    })
}

#[test]
fn a_refused_connect_moved_to_another_loop_is_still_refused() {
    // On io_uring the first loop's `CONNECT` runs as the socket leaves it
    // and reads the socket's error, which the kernel then clears: the
    // outcome must travel with the socket, or the new loop would find no
    // error, no peer, and wait for ever.
    for driver in drivers() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let first = runtime(driver);
        let connecting = connect_polled_once(&first, port);
        let error = std::thread::spawn(move || {
            runtime(driver).block_on(async move {
                let outcome = jsloop::time::timeout(Duration::from_secs(20), connecting).await;
                outcome.expect("the moved connect hung").unwrap_err()
            })
        })
        .join()
        .unwrap();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{driver:?}: {error}");
        drop(first);
    }
}

#[test]
fn a_connect_started_on_one_loop_finishes_on_another() {
    // Polled once on the first loop (on io_uring its `CONNECT` is queued
    // there), then awaited on a second, which the socket moves to: the
    // second loop tells how the connect went, from the socket itself.
    for driver in drivers() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let first = runtime(driver);
        let connecting = connect_polled_once(&first, addr);
        let other = std::thread::spawn(move || {
            runtime(driver).block_on(async move {
                let mut stream = connecting.await.unwrap();
                stream.write_all(b"moved").await.unwrap();
            })
        });
        let (mut accepted, _) = listener.accept().unwrap();
        other.join().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut accepted, &mut got).unwrap();
        assert_eq!(got, b"moved", "{driver:?}");
        drop(first);
    }
}
