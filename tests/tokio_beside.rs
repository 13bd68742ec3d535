//! A tokio-only crate beside jsloop, as the README's "Coming from tokio"
//! table shows: a multi-thread tokio runtime runs beside the loop and its
//! `enter()` guard is held while jsloop runs, so code that calls
//! `tokio::spawn`, `tokio::time` or `tokio::net` finds a runtime. Its
//! drivers run on tokio's threads and wake jsloop's tasks from there; as
//! the loop cannot see that pending work, `run` needs a `keep_alive`
//! guard meanwhile, and `block_on` waits anyway.

use std::time::Duration;

mod common;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

#[test]
fn tokio_timers_and_tasks_work_inside_a_jsloop_task_under_an_enter_guard() {
    let tokio = tokio_runtime();
    let _guard = tokio.enter();
    let answer = jsloop::block_on(async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        // A task on tokio's threads, awaited from the loop.
        let on_tokio = tokio::spawn(async { std::thread::current().name().map(str::to_owned) });
        let name = on_tokio.await.unwrap();
        assert_ne!(name.as_deref(), std::thread::current().name(), "it ran on a tokio worker");
        // jsloop's own timers still run in its timers phase meanwhile.
        jsloop::time::sleep(Duration::from_millis(1)).await;
        42
    });
    assert_eq!(answer, 42);
}

#[test]
fn a_tokio_socket_talks_to_a_jsloop_socket() {
    let tokio = tokio_runtime();
    let _guard = tokio.enter();
    jsloop::run(async {
        use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};

        // jsloop cannot see work pending on tokio's threads (a JS promise
        // settled from outside): under `run` a guard keeps the loop alive
        // while tokio's socket is awaited (`block_on` needs none).
        let _alive = jsloop::keep_alive();

        let listener = jsloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = jsloop::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0; 4];
            stream.read_exact(&mut request).await.unwrap();
            stream.write_all(&request.map(|b| b.to_ascii_uppercase())).await.unwrap();
        });
        // The tokio-only client: its socket is driven by tokio's reactor.
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut reply = [0; 4];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"PING");
        server.await.unwrap();
    });
}

#[test]
fn without_the_guard_tokio_code_panics_with_tokios_own_message() {
    let outcome = std::panic::catch_unwind(|| {
        jsloop::block_on(async { tokio::time::sleep(Duration::from_millis(1)).await })
    });
    let message = common::panic_message(outcome.expect_err("no tokio runtime: tokio panics"));
    assert!(message.contains("no reactor running") || message.contains("Tokio"), "{message}");
}
