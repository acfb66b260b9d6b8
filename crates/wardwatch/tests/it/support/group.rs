//! A test's own process group: everything the test starts in it is killed with it, so a
//! test that fails midway leaves nothing running on the machine.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// A child started as the leader of a new process group; the whole group is killed
/// (SIGKILL) when dropped.
pub struct Group {
    pub child: Child,
}

impl Group {
    pub fn spawn(cmd: &mut Command) -> Group {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn a test process");
        Group { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        // SAFETY: kill(2) of the process group this test created (its pgid is the
        // leader's pid); SIGKILL also ends stopped members.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}
