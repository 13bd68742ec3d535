//! The worker pool: spawn_blocking's delivery, failures, aborts, liveness
//! and shutdown.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

fn runtime(threads: usize) -> jsloop::Runtime {
    jsloop::Runtime::builder().worker_threads(threads).build().unwrap()
}

#[test]
fn results_arrive_only_after_the_scripts_microtasks_drained() {
    let seen_flood = Rc::new(Cell::new(0));
    let flood = Rc::new(Cell::new(0));
    jsloop::run({
        let (seen_flood, flood) = (seen_flood.clone(), flood.clone());
        async move {
            let f = flood.clone();
            jsloop::spawn(async move {
                jsloop::spawn_blocking(|| ()).await.unwrap();
                seen_flood.set(f.get());
            });
            fn step(n: Rc<Cell<u32>>) {
                jsloop::queue_microtask(move || {
                    n.set(n.get() + 1);
                    if n.get() < 5_000 {
                        step(n);
                    }
                });
            }
            step(flood);
        }
    });
    assert_eq!(seen_flood.get(), 5_000);
}

#[test]
fn a_panicking_job_is_a_join_error_and_its_worker_survives() {
    let rt = runtime(1);
    rt.block_on(async {
        let error = jsloop::spawn_blocking(|| panic!("job failed")).await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.into_panic().downcast_ref::<&str>(), Some(&"job failed"));
        // The only worker still runs jobs.
        assert_eq!(jsloop::spawn_blocking(|| 5).await.unwrap(), 5);
    });
}

#[test]
fn a_job_aborted_before_it_starts_never_runs() {
    let rt = runtime(1);
    let ran = Arc::new(AtomicBool::new(false));
    let (release, gate) = mpsc::channel::<()>();
    rt.block_on({
        let ran = ran.clone();
        async move {
            // Occupy the only worker until released.
            let first = jsloop::spawn_blocking(move || gate.recv().unwrap());
            let second = jsloop::spawn_blocking(move || ran.store(true, Ordering::SeqCst));
            second.abort();
            release.send(()).unwrap();
            first.await.unwrap();
            assert!(second.await.unwrap_err().is_aborted());
        }
    });
    // The skipped job was still accounted for: the loop winds down.
    rt.run(async {});
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn an_in_flight_job_keeps_run_alive() {
    let done = Arc::new(AtomicBool::new(false));
    jsloop::run({
        let done = done.clone();
        async move {
            drop(jsloop::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(20));
                done.store(true, Ordering::SeqCst);
            }));
        }
    });
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn a_panicking_job_does_not_disturb_the_others() {
    let rt = runtime(4);
    let total = rt.block_on(async {
        let handles: Vec<_> = (0..40u64)
            .map(|i| {
                jsloop::spawn_blocking(move || {
                    if i == 13 {
                        panic!("unlucky");
                    }
                    i
                })
            })
            .collect();
        let mut total = 0;
        let mut panics = 0;
        for handle in handles {
            match handle.await {
                Ok(i) => total += i,
                Err(error) => panics += usize::from(error.is_panic()),
            }
        }
        assert_eq!(panics, 1);
        total
    });
    assert_eq!(total, (0..40u64).sum::<u64>() - 13);
}

#[test]
fn a_hundred_thousand_queued_jobs_run_on_a_fixed_pool() {
    let rt = runtime(2);
    let counter = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    rt.block_on({
        let (counter, threads) = (counter.clone(), threads.clone());
        async move {
            let handles: Vec<_> = (0..100_000)
                .map(|_| {
                    let (counter, threads) = (counter.clone(), threads.clone());
                    jsloop::spawn_blocking(move || {
                        counter.fetch_add(1, Ordering::Relaxed);
                        threads.lock().unwrap().insert(std::thread::current().id());
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), 100_000);
    assert!(threads.lock().unwrap().len() <= 2, "no more threads than the pool size");
}

#[test]
fn dropping_the_runtime_does_not_wait_for_a_job_that_never_returns() {
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let rt = runtime(1);
    rt.block_on(async move {
        drop(jsloop::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            gate.recv()
        }));
    });
    started.recv().unwrap(); // the job is running, and will not return
    let start = Instant::now();
    drop(rt);
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(release); // lets the detached worker finish
}

#[test]
fn shutdown_timeout_waits_for_running_jobs() {
    let finished = Arc::new(AtomicBool::new(false));
    let (started_tx, started) = mpsc::channel::<()>();
    let rt = runtime(1);
    rt.block_on({
        let finished = finished.clone();
        async move {
            drop(jsloop::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(30));
                finished.store(true, Ordering::SeqCst);
            }));
        }
    });
    // Running, not just queued (a queued job is dropped at shutdown).
    started.recv().unwrap();
    rt.shutdown_timeout(Duration::from_secs(30));
    assert!(finished.load(Ordering::SeqCst));
}

#[test]
fn a_pool_of_zero_threads_is_an_error_at_build_time() {
    let error = jsloop::Runtime::builder().worker_threads(0).build().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("at least one thread"));
}

#[test]
fn fs_errors_name_the_path_and_keep_their_kind() {
    jsloop::block_on(async {
        let missing = std::env::temp_dir().join("jsloop-test-no-such-dir/file.txt");
        let error = jsloop::fs::read_to_string(&missing).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        assert!(error.to_string().contains("jsloop-test-no-such-dir/file.txt"), "{error}");
        let from = std::env::temp_dir().join("jsloop-test-rename-missing");
        let error = jsloop::fs::rename(&from, "/tmp/elsewhere").await.unwrap_err();
        assert!(error.to_string().contains("jsloop-test-rename-missing"), "{error}");
        assert!(error.to_string().contains("/tmp/elsewhere"), "{error}");
    });
}

#[test]
fn fs_round_trip_through_the_pool() {
    jsloop::block_on(async {
        let dir = std::env::temp_dir().join(format!("jsloop-test-fs-{}", std::process::id()));
        jsloop::fs::create_dir_all(dir.join("sub")).await.unwrap();
        jsloop::fs::write(dir.join("a"), "one").await.unwrap();
        jsloop::fs::append(dir.join("a"), "+two").await.unwrap();
        jsloop::fs::copy(dir.join("a"), dir.join("b")).await.unwrap();
        jsloop::fs::rename(dir.join("b"), dir.join("sub/c")).await.unwrap();
        assert_eq!(jsloop::fs::read_to_string(dir.join("sub/c")).await.unwrap(), "one+two");
        let mut names: Vec<_> =
            jsloop::fs::read_dir(&dir).await.unwrap().iter().map(|e| e.file_name()).collect();
        names.sort();
        assert_eq!(names, ["a", "sub"]);
        assert!(jsloop::fs::canonicalize(&dir).await.unwrap().is_absolute());
        jsloop::fs::remove_file(dir.join("a")).await.unwrap();
        jsloop::fs::remove_dir_all(&dir).await.unwrap();
        assert!(jsloop::fs::metadata(&dir).await.is_err());
    });
}

#[test]
fn lookup_host_resolves_on_the_pool_and_names_bad_hosts() {
    jsloop::block_on(async {
        let local = jsloop::net::lookup_host("localhost:8080").await.unwrap();
        assert!(local.iter().all(|addr| addr.port() == 8080 && addr.ip().is_loopback()));
        assert!(!local.is_empty());
        let error = jsloop::net::lookup_host("missing-port").await.unwrap_err();
        assert!(error.to_string().contains("missing-port"), "{error}");
        // Many lookups at once: they queue for half the pool and all finish.
        let many: Vec<_> = (0..20)
            .map(|i| jsloop::spawn(jsloop::net::lookup_host(format!("127.0.0.{}:1", i + 1))))
            .collect();
        for (i, handle) in many.into_iter().enumerate() {
            let addrs = handle.await.unwrap().unwrap();
            assert_eq!(addrs[0].to_string(), format!("127.0.0.{}:1", i + 1));
        }
    });
}
