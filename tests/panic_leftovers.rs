//! A callback panic that escapes `run` / `block_on` leaves the runtime
//! usable: whatever the phase had collected but not run yet stays queued
//! and runs on the next call (due timers, pool completions, remote wakes,
//! socket readiness). Each test catches the panic, then proves the rest
//! of the phase still arrives.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use futures::AsyncReadExt;

fn boom() {
    panic!("boom")
}

#[test]
fn timers_due_in_the_phase_of_a_panicking_timer_still_fire() {
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    let sleeper = std::cell::RefCell::new(None);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            // Same deadline; the panicking timer was created first.
            jsloop::set_timeout(Duration::from_millis(5), boom);
            *sleeper.borrow_mut() =
                Some(jsloop::spawn(jsloop::time::sleep(Duration::from_millis(5))));
            jsloop::time::sleep(Duration::from_millis(50)).await;
        })
    }));
    assert!(caught.is_err());
    rt.block_on(sleeper.into_inner().unwrap()).unwrap();
}

#[test]
fn pool_completions_of_the_phase_of_a_panicking_callback_are_still_delivered() {
    let rt = jsloop::Runtime::new().unwrap();
    let second_job = std::cell::RefCell::new(None);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            let first = jsloop::spawn_blocking(|| 1);
            *second_job.borrow_mut() = Some(jsloop::spawn_blocking(|| 2));
            // Both finish while the loop is busy: one poll phase gets both.
            std::thread::sleep(Duration::from_millis(50));
            first.await.unwrap();
            jsloop::queue_microtask(boom);
            std::future::pending::<()>().await
        })
    }));
    assert!(caught.is_err());
    let second = second_job.into_inner().unwrap();
    assert_eq!(rt.block_on(second).unwrap(), 2);
    // Nothing stays counted in flight: `run` returns.
    rt.run(async {});
}

#[test]
fn a_task_woken_remotely_in_the_phase_of_a_panic_can_still_be_woken() {
    let rt = jsloop::Runtime::new().unwrap();
    let (first_tx, first_rx) = futures::channel::oneshot::channel::<()>();
    let (second_tx, second_rx) = futures::channel::oneshot::channel::<()>();
    let (third_tx, mut third_rx) = futures::channel::mpsc::unbounded::<u32>();
    let second = rt.spawn(async move {
        second_rx.await.unwrap();
        futures::StreamExt::next(&mut third_rx).await
    });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            jsloop::spawn(async {
                first_rx.await.unwrap();
                jsloop::queue_microtask(boom);
            });
            jsloop::yield_now().await; // both tasks wait on their channels
            std::thread::spawn(move || {
                first_tx.send(()).unwrap();
                second_tx.send(()).unwrap();
            })
            .join()
            .unwrap();
            // Both remote wakes are queued before the poll phase runs.
            std::future::pending::<()>().await
        })
    }));
    assert!(caught.is_err());
    std::thread::spawn(move || third_tx.unbounded_send(3).unwrap());
    let _guard = rt.keep_alive();
    assert_eq!(rt.block_on(second).unwrap(), Some(3));
}

#[test]
fn socket_readiness_of_the_phase_of_a_panicking_callback_is_not_lost() {
    let rt = jsloop::Runtime::new().unwrap();
    let (one, two) = rt.block_on(async {
        let listener = jsloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = std::thread::spawn(move || {
            (
                std::net::TcpStream::connect(addr).unwrap(),
                std::net::TcpStream::connect(addr).unwrap(),
            )
        });
        let (a, _) = listener.accept().await.unwrap();
        let (b, _) = listener.accept().await.unwrap();
        let (mut one, mut two) = clients.join().unwrap();
        let readers = (
            jsloop::spawn(async move {
                let mut a = a;
                let mut buf = [0; 1];
                a.read_exact(&mut buf).await.unwrap();
                jsloop::queue_microtask(boom);
            }),
            jsloop::spawn(async move {
                let mut b = b;
                let mut buf = [0; 1];
                b.read_exact(&mut buf).await.unwrap();
                buf[0]
            }),
        );
        jsloop::yield_now().await; // both readers wait for readiness
        one.write_all(b"1").unwrap();
        two.write_all(b"2").unwrap();
        std::thread::sleep(Duration::from_millis(50)); // both ready in one poll
        (readers, (one, two))
    });
    let ((first, second), _clients) = (one, two);
    let caught = catch_unwind(AssertUnwindSafe(|| rt.block_on(first)));
    assert!(caught.is_err());
    assert_eq!(rt.block_on(second).unwrap(), b'2');
}

#[test]
fn frame_callbacks_after_a_panicking_one_run_first_in_the_next_frame() {
    use jsloop::frame::request_animation_frame;
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    let ran = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.run(async {
            request_animation_frame(|_| boom());
            let ran = ran.clone();
            request_animation_frame(move |frame| ran.borrow_mut().push(("left", frame.number())));
        })
    }));
    assert!(caught.is_err());
    rt.run({
        let ran = ran.clone();
        async move {
            request_animation_frame(move |frame| ran.borrow_mut().push(("new", frame.number())));
        }
    });
    // The one left over was requested first: it runs first, in frame 2.
    assert_eq!(*ran.borrow(), [("left", 2), ("new", 2)]);
}

#[test]
fn the_render_step_survives_its_own_panic() {
    use jsloop::frame::request_animation_frame;
    let renders = std::rc::Rc::new(std::cell::Cell::new(0));
    let rt = jsloop::Runtime::builder()
        .virtual_time(true)
        .on_render({
            let renders = renders.clone();
            move |_| {
                renders.set(renders.get() + 1);
                if renders.get() == 1 {
                    boom();
                }
            }
        })
        .build()
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.run(async {
            request_animation_frame(|_| {});
        })
    }));
    assert!(caught.is_err());
    rt.run(async {
        request_animation_frame(|_| {});
    });
    assert_eq!(renders.get(), 2, "the render step is still there after its panic escaped `run`");
}
