//! Just enough ELF to tell whether an executable is static or which interpreter
//! (`PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`) it needs. A dynamically linked plugin
//! whose interpreter is missing fails with `fork/exec …: no such file or directory`
//! (siderolabs/talos#11086).

use std::os::unix::fs::FileExt;

/// What kind of executable a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecKind {
    /// ELF without `PT_INTERP` (static, or static-pie).
    StaticElf,
    /// ELF needing this interpreter.
    DynamicElf(String),
    /// A `#!` script needing this interpreter.
    Script(String),
    /// Neither (the kernel would refuse it: `exec format error`).
    Unknown,
}

/// A truncated or malformed ELF header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed ELF file: {0}")]
pub struct ElfError(pub &'static str);

const PT_INTERP: u32 = 3;

/// Reads the executable kind of an open file.
pub fn exec_kind(file: &std::fs::File) -> Result<ExecKind, ElfError> {
    let mut head = [0u8; 64];
    let n = read_at(file, &mut head, 0);
    let head = &head[..n];
    if head.starts_with(b"#!") {
        let mut line = vec![0u8; 256];
        let n = read_at(file, &mut line, 0);
        let text = String::from_utf8_lossy(&line[2..n]);
        let first = text.lines().next().unwrap_or("").trim();
        let interp = first.split_whitespace().next().unwrap_or("").to_owned();
        return Ok(ExecKind::Script(interp));
    }
    if !head.starts_with(b"\x7fELF") {
        return Ok(ExecKind::Unknown);
    }
    if head.len() < 52 {
        return Err(ElfError("short header"));
    }
    let is64 = match head[4] {
        1 => false,
        2 => true,
        _ => return Err(ElfError("bad class")),
    };
    let le = match head[5] {
        1 => true,
        2 => false,
        _ => return Err(ElfError("bad byte order")),
    };
    let u16_at = |b: &[u8], o: usize| {
        let a = [b[o], b[o + 1]];
        if le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    };
    let u32_at = |b: &[u8], o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let u64_at = |b: &[u8], o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        if le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    if is64 && head.len() < 64 {
        return Err(ElfError("short header"));
    }
    let (phoff, phentsize, phnum) = if is64 {
        (
            u64_at(head, 32),
            u16_at(head, 54) as u64,
            u16_at(head, 56) as u64,
        )
    } else {
        (
            u32_at(head, 28) as u64,
            u16_at(head, 42) as u64,
            u16_at(head, 44) as u64,
        )
    };
    let min_ent = if is64 { 56 } else { 32 };
    if phnum == 0 {
        return Ok(ExecKind::StaticElf);
    }
    if phentsize < min_ent || phnum > 4096 {
        return Err(ElfError("bad program header table"));
    }
    let mut ph = vec![0u8; phentsize as usize];
    for i in 0..phnum {
        let off = phoff
            .checked_add(i * phentsize)
            .ok_or(ElfError("bad program header offset"))?;
        if read_at(file, &mut ph, off) < ph.len() {
            return Err(ElfError("truncated program header table"));
        }
        if u32_at(&ph, 0) != PT_INTERP {
            continue;
        }
        let (offset, size) = if is64 {
            (u64_at(&ph, 8), u64_at(&ph, 32))
        } else {
            (u32_at(&ph, 4) as u64, u32_at(&ph, 16) as u64)
        };
        if size == 0 || size > 4096 {
            return Err(ElfError("bad PT_INTERP size"));
        }
        let mut buf = vec![0u8; size as usize];
        if read_at(file, &mut buf, offset) < buf.len() {
            return Err(ElfError("truncated PT_INTERP"));
        }
        let s = buf.split(|b| *b == 0).next().unwrap_or(&[]);
        return Ok(ExecKind::DynamicElf(
            String::from_utf8_lossy(s).into_owned(),
        ));
    }
    Ok(ExecKind::StaticElf)
}

fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_test_binary_and_scripts() {
        let me = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        match exec_kind(&me).unwrap() {
            ExecKind::DynamicElf(interp) => assert!(interp.starts_with('/'), "{interp}"),
            ExecKind::StaticElf => {}
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "#!/bin/sh -e\necho\n").unwrap();
        assert_eq!(
            exec_kind(&std::fs::File::open(&p).unwrap()).unwrap(),
            ExecKind::Script("/bin/sh".into())
        );
        std::fs::write(&p, "hello").unwrap();
        assert_eq!(
            exec_kind(&std::fs::File::open(&p).unwrap()).unwrap(),
            ExecKind::Unknown
        );
        std::fs::write(&p, b"\x7fELF\x02\x01\x01").unwrap();
        assert!(exec_kind(&std::fs::File::open(&p).unwrap()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_garbage(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("g");
            let mut bytes = b"\x7fELF".to_vec();
            bytes.extend(tail);
            std::fs::write(&p, &bytes).unwrap();
            let _ = exec_kind(&std::fs::File::open(&p).unwrap());
        }
    }
}
