//! Processes a test owns: `hookbus serve` as a child (to SIGKILL or SIGTERM it), and dedicated
//! Redis servers it may stop and restart (dedicated Kafka nodes: `support::kafka`).
use std::time::Duration;

use super::bus::Bus;

/// `hookbus serve` as a child process; killed (SIGKILL) when dropped.
pub struct Child {
    proc: std::process::Child,
    pub url: String,
}

impl Child {
    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}

impl Child {
    /// Whether the process is still running (it has not exited or been reaped).
    pub fn is_running(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(None))
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.proc.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/<pid>/status");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.proc.id().to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.proc.wait().unwrap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Bus {
    /// Starts `hookbus serve` on `listen` (default: a free port); returns once it printed its address.
    pub fn spawn(&self, listen: Option<&str>) -> Child {
        self.spawn_role("serve", listen, &[])
    }

    /// Starts `hookbus <role>` (serve, ingress, worker) with extra environment (config overrides
    /// such as `HOOKBUS_BROKER__KAFKA__GROUP_INSTANCE_ID`); returns once it printed its address.
    pub fn spawn_role(&self, role: &str, listen: Option<&str>, env: &[(&str, &str)]) -> Child {
        use std::io::BufRead as _;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hookbus"));
        cmd.args([role, "--config"]).arg(&self.config_path);
        if let Some(addr) = listen {
            cmd.env("HOOKBUS_SERVER__LISTEN", addr);
        }
        cmd.envs(env.iter().copied());
        // The child's log goes next to its config, for a failing test to point at.
        let n = std::fs::read_dir(self.dir.path()).map(|d| d.count()).unwrap_or(0);
        let log = std::fs::File::create(self.dir.path().join(format!("{role}-{n}.log"))).unwrap();
        let mut proc = cmd.stdout(std::process::Stdio::piped()).stderr(log).spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(proc.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("hookbus listening on ")
            .unwrap_or_else(|| panic!("hookbus {role} did not start: {line:?}"))
            .to_owned();
        Child { proc, url }
    }
}

impl Bus {
    /// The last lines of every child process log, for failure messages.
    pub fn child_logs(&self) -> String {
        let mut out = String::new();
        let mut logs: Vec<_> = std::fs::read_dir(self.dir.path()).unwrap().flatten().map(|e| e.path()).collect();
        logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
        logs.sort();
        // Kept after the test's temporary directory is gone, for a closer look.
        let keep = std::env::temp_dir().join("hookbus-test-logs");
        let _ = std::fs::create_dir_all(&keep);
        for p in logs {
            let _ = std::fs::copy(&p, keep.join(p.file_name().unwrap()));
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "--- {} (last 20 of {} lines; copy in {})\n",
                p.display(),
                lines.len(),
                keep.display()
            ));
            for l in &lines[lines.len().saturating_sub(20)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

/// A loopback port free right now (for a child that must keep its address across restarts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process the test owns (a dedicated Redis it may stop); killed when dropped.
pub struct Server {
    proc: std::process::Child,
    pub addr: String,
}

impl Server {
    /// Starts `program args` in `dir` and waits until `addr` accepts connections.
    pub async fn start(program: &str, args: &[String], addr: &str, dir: &std::path::Path) -> Server {
        // Its stderr, kept across restarts, for the failure message.
        let log_path = dir.join(format!("{program}.log"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
        let proc = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "{program} did not listen on {addr}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server { proc, addr: addr.to_owned() }
    }

    /// A dedicated Redis that keeps nothing on disk, on a free port.
    pub async fn redis(addr: &str) -> Server {
        let port = addr.rsplit(':').next().unwrap().to_owned();
        let args = ["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        Server::start("redis-server", &args.map(String::from), addr, &std::env::temp_dir()).await
    }

    pub fn stop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
