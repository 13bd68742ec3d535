//! The I/O driver choice: `Builder::io_driver`, `JSLOOP_IO`, the fallback
//! when io_uring is refused, and the same socket behaviour on both drivers.
//!
//! Tests that need their own environment (a `JSLOOP_IO` value, a seccomp
//! filter refusing io_uring) run this binary again as a child process with
//! one test selected, so the rest of the suite never sees them.

use std::io;
use std::process::Command;
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
        let rt = runtime(driver);
        let read = rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let reader = jsloop::spawn(async move {
                let mut buf = [0; 8];
                a.read(&mut buf).await
            });
            jsloop::time::sleep(Duration::from_millis(10)).await;
            drop(b);
            jsloop::time::timeout(Duration::from_secs(20), reader).await
        });
        assert_eq!(read.expect("the reader hung").unwrap().unwrap(), 0, "{driver:?}");
    }
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
    let Ok(forced) = std::env::var("JSLOOP_IO") else { return };
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
