//! Poll phase, worker side: file-system helpers on the worker pool, like
//! Node's `fs.promises`.
//!
//! Each function runs the matching `std::fs` call through
//! [`spawn_blocking`], so its result arrives in the
//! poll phase. Errors keep their `io::ErrorKind` and their message names the
//! operation and the path, the way Node's `ENOENT: no such file or
//! directory, open 'x'` does.

use std::fs::{DirEntry, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::pool::spawn_blocking;

/// Runs `op` on the pool; names `syscall` and the paths in its errors.
async fn on_pool<T, F>(syscall: &'static str, paths: Vec<PathBuf>, op: F) -> io::Result<T>
where
    F: FnOnce(&[PathBuf]) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (result, paths) =
        spawn_blocking(move || (op(&paths), paths)).await.map_err(io::Error::from)?;
    result.map_err(|error| {
        let names: Vec<String> = paths.iter().map(|p| format!("'{}'", p.display())).collect();
        io::Error::new(error.kind(), format!("{error}, {syscall} {}", names.join(" -> ")))
    })
}

fn owned(path: impl AsRef<Path>) -> Vec<PathBuf> {
    vec![path.as_ref().to_path_buf()]
}

/// Reads a whole file: `fs.promises.readFile(path)`.
///
/// # Errors
///
/// The `std::fs::read` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let dir = std::env::temp_dir().join("jsloop-doc-fs-read");
///     jsloop::fs::create_dir_all(&dir).await?;
///     jsloop::fs::write(dir.join("a.txt"), "hi").await?;
///     assert_eq!(jsloop::fs::read(dir.join("a.txt")).await?, b"hi");
///     let missing = jsloop::fs::read(dir.join("missing")).await.unwrap_err();
///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
///     assert!(missing.to_string().contains("missing"));
///     jsloop::fs::remove_dir_all(&dir).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_pool("open", owned(path), |p| std::fs::read(&p[0])).await
}

/// Reads a whole UTF-8 file: `fs.promises.readFile(path, 'utf8')`.
///
/// # Errors
///
/// The `std::fs::read_to_string` error (`InvalidData` for bad UTF-8), with
/// the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let path = std::env::temp_dir().join("jsloop-doc-fs-read-to-string.txt");
///     jsloop::fs::write(&path, "text").await?;
///     assert_eq!(jsloop::fs::read_to_string(&path).await?, "text");
///     jsloop::fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_pool("open", owned(path), |p| std::fs::read_to_string(&p[0])).await
}

/// Creates or truncates a file and writes `contents`: `fs.promises.writeFile`.
///
/// # Errors
///
/// The `std::fs::write` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let path = std::env::temp_dir().join("jsloop-doc-fs-write.txt");
///     jsloop::fs::write(&path, b"bytes").await?;
///     assert_eq!(jsloop::fs::metadata(&path).await?.len(), 5);
///     jsloop::fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_pool("open", owned(path), move |p| std::fs::write(&p[0], contents)).await
}

/// Appends `contents`, creating the file if needed: `fs.promises.appendFile`.
///
/// # Errors
///
/// The open or write error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let path = std::env::temp_dir().join("jsloop-doc-fs-append.txt");
///     jsloop::fs::write(&path, "a").await?;
///     jsloop::fs::append(&path, "b").await?;
///     assert_eq!(jsloop::fs::read_to_string(&path).await?, "ab");
///     jsloop::fs::remove_file(&path).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn append(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_pool("open", owned(path), move |p| {
        std::fs::OpenOptions::new().append(true).create(true).open(&p[0])?.write_all(&contents)
    })
    .await
}

/// A path's metadata, following symlinks: `fs.promises.stat`.
///
/// # Errors
///
/// The `std::fs::metadata` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     assert!(jsloop::fs::metadata(std::env::temp_dir()).await?.is_dir());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool("stat", owned(path), |p| std::fs::metadata(&p[0])).await
}

/// The entries of a directory: `fs.promises.readdir`.
///
/// # Errors
///
/// The error of opening or reading the directory, with the path in its
/// message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let dir = std::env::temp_dir().join("jsloop-doc-fs-read-dir");
///     jsloop::fs::create_dir_all(&dir).await?;
///     jsloop::fs::write(dir.join("one"), "1").await?;
///     let names: Vec<_> = jsloop::fs::read_dir(&dir).await?.iter().map(|e| e.file_name()).collect();
///     assert_eq!(names, ["one"]);
///     jsloop::fs::remove_dir_all(&dir).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>> {
    on_pool("scandir", owned(path), |p| std::fs::read_dir(&p[0])?.collect()).await
}

/// Creates a directory and its missing parents: `fs.promises.mkdir(path,
/// { recursive: true })`.
///
/// # Errors
///
/// The `std::fs::create_dir_all` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let dir = std::env::temp_dir().join("jsloop-doc-fs-mkdir/a/b");
///     jsloop::fs::create_dir_all(&dir).await?;
///     assert!(jsloop::fs::metadata(&dir).await?.is_dir());
///     jsloop::fs::remove_dir_all(std::env::temp_dir().join("jsloop-doc-fs-mkdir")).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("mkdir", owned(path), |p| std::fs::create_dir_all(&p[0])).await
}

/// Removes a file: `fs.promises.unlink`.
///
/// # Errors
///
/// The `std::fs::remove_file` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let error = jsloop::fs::remove_file("/no/such/file").await.unwrap_err();
///     assert!(error.to_string().contains("'/no/such/file'"));
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("unlink", owned(path), |p| std::fs::remove_file(&p[0])).await
}

/// Removes a directory and everything in it: `fs.promises.rm(path, {
/// recursive: true })`.
///
/// # Errors
///
/// The `std::fs::remove_dir_all` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let dir = std::env::temp_dir().join("jsloop-doc-fs-rm");
///     jsloop::fs::create_dir_all(dir.join("inner")).await?;
///     jsloop::fs::remove_dir_all(&dir).await?;
///     assert!(jsloop::fs::metadata(&dir).await.is_err());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("rm", owned(path), |p| std::fs::remove_dir_all(&p[0])).await
}

/// Renames (moves) a file or directory: `fs.promises.rename`.
///
/// # Errors
///
/// The `std::fs::rename` error, with both paths in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let from = std::env::temp_dir().join("jsloop-doc-fs-rename-a");
///     let to = std::env::temp_dir().join("jsloop-doc-fs-rename-b");
///     jsloop::fs::write(&from, "x").await?;
///     jsloop::fs::rename(&from, &to).await?;
///     assert_eq!(jsloop::fs::read(&to).await?, b"x");
///     jsloop::fs::remove_file(&to).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let paths = vec![from.as_ref().to_path_buf(), to.as_ref().to_path_buf()];
    on_pool("rename", paths, |p| std::fs::rename(&p[0], &p[1])).await
}

/// Copies a file's contents and permissions; returns the bytes copied:
/// `fs.promises.copyFile`.
///
/// # Errors
///
/// The `std::fs::copy` error, with both paths in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let from = std::env::temp_dir().join("jsloop-doc-fs-copy-a");
///     let to = std::env::temp_dir().join("jsloop-doc-fs-copy-b");
///     jsloop::fs::write(&from, "abc").await?;
///     assert_eq!(jsloop::fs::copy(&from, &to).await?, 3);
///     jsloop::fs::remove_file(&from).await?;
///     jsloop::fs::remove_file(&to).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let paths = vec![from.as_ref().to_path_buf(), to.as_ref().to_path_buf()];
    on_pool("copyfile", paths, |p| std::fs::copy(&p[0], &p[1])).await
}

/// The absolute path with symlinks resolved: `fs.promises.realpath`.
///
/// # Errors
///
/// The `std::fs::canonicalize` error, with the path in its message.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let real = jsloop::fs::canonicalize(".").await?;
///     assert!(real.is_absolute());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool("realpath", owned(path), |p| std::fs::canonicalize(&p[0])).await
}
