//! `JSLOOP_THREADPOOL_SIZE` (its own test binary: it sets a process-wide
//! environment variable).

#[test]
fn the_environment_sets_the_pool_size_and_bad_values_are_errors() {
    // SAFETY (for each `set_var` / `remove_var` here): this binary has this
    // one test, and no thread of it reads the environment while it is
    // written (a runtime reads it on this thread, in `Runtime::new`).
    unsafe { std::env::set_var("JSLOOP_THREADPOOL_SIZE", "not-a-number") };
    let error = jsloop::Runtime::new().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("JSLOOP_THREADPOOL_SIZE"));

    unsafe { std::env::set_var("JSLOOP_THREADPOOL_SIZE", "0") };
    assert!(jsloop::Runtime::new().is_err());

    unsafe { std::env::set_var("JSLOOP_THREADPOOL_SIZE", "1") };
    let rt = jsloop::Runtime::new().unwrap();
    let names = rt.block_on(async {
        let a = jsloop::spawn_blocking(|| std::thread::current().name().map(String::from));
        let b = jsloop::spawn_blocking(|| std::thread::current().name().map(String::from));
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!(names.0.as_deref(), Some("jsloop-worker-0"));
    assert_eq!(names.1.as_deref(), Some("jsloop-worker-0"));

    // The builder wins over the environment.
    let rt = jsloop::Runtime::builder().worker_threads(3).build().unwrap();
    drop(rt);
    unsafe { std::env::remove_var("JSLOOP_THREADPOOL_SIZE") };
}
