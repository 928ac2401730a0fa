//! Running the built `sqlite-testdb` command as a user runs it, and what it gave.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// What one run of the command gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON; the error shows the whole run.
    pub fn json(&self) -> Result<Value, Box<dyn std::error::Error>> {
        serde_json::from_str(&self.stdout)
            .map_err(|e| format!("stdout is not JSON ({e}): {self:?}").into())
    }
}

/// The command with `args`, not yet run.
pub fn command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqlite-testdb"));
    cmd.args(args);
    cmd
}

/// Runs `cmd` to its end.
pub fn output(mut cmd: Command) -> Result<Run, Box<dyn std::error::Error>> {
    let out = cmd.output()?;
    Ok(Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout)?,
        stderr: String::from_utf8(out.stderr)?,
    })
}

/// Runs the command with `args`.
pub fn run<I, S>(args: I) -> Result<Run, Box<dyn std::error::Error>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    output(command(args))
}

/// Runs the command with `args` in the folder `cwd`.
pub fn run_in<I, S>(cwd: &Path, args: I) -> Result<Run, Box<dyn std::error::Error>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = command(args);
    cmd.current_dir(cwd);
    output(cmd)
}
