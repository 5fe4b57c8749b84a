//! Running commands with timing and readable failures.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs `f` as a named stage: prints `==> name`, then `    name: done in X.Y s` (or failed).
pub fn stage<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    println!("==> {name}");
    let t0 = Instant::now();
    let out = f();
    let secs = t0.elapsed().as_secs_f64();
    match &out {
        Ok(_) => println!("    {name}: done in {secs:.1} s"),
        Err(_) => println!("    {name}: FAILED after {secs:.1} s"),
    }
    out
}

/// Runs a command with inherited stdio; an error names the command and its exit status.
pub fn run_inherit(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// Runs a command, echoing stdout and stderr line by line and returning all the lines of both
/// (stderr lines follow stdout lines) together with success.
pub fn run_capture(cmd: &mut Command) -> Result<(bool, Vec<String>), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", show(cmd)))?;
    let stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut lines = Vec::new();
        if let Some(s) = stderr {
            for line in BufReader::new(s).lines().map_while(Result::ok) {
                eprintln!("{line}");
                lines.push(line);
            }
        }
        lines
    });
    let mut lines = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            lines.push(line);
        }
    }
    let status = child.wait().map_err(|e| format!("{}: {e}", show(cmd)))?;
    lines.extend(err_thread.join().unwrap_or_default());
    Ok((status.success(), lines))
}

/// Output of a command (stdout), or None when it cannot run or fails.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The command line, for messages.
pub fn show(cmd: &Command) -> String {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{} {}", cmd.get_program().to_string_lossy(), args.join(" "))
}
