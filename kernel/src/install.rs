//! `mlsys-kernel install`: writes the `mlsys` kernelspec (kernel.json + logos)
//! where Jupyter looks for kernels.

use serde_json::json;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The kernelspec's directory name, which is the kernel's name in Jupyter.
const KERNEL_NAME: &str = "mlsys";

const LOGO_32: &[u8] = include_bytes!("../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../assets/logo-64x64.png");

/// Where to install the kernelspec (default: for the current user).
#[derive(Debug, clap::Args)]
#[group(multiple = false)]
pub struct InstallArgs {
    /// Install for the current user (Jupyter's user data directory). The default.
    #[arg(long)]
    user: bool,
    /// Install into the active Python environment ($VIRTUAL_ENV or $CONDA_PREFIX).
    #[arg(long)]
    sys_prefix: bool,
    /// Install into DIR/share/jupyter/kernels (e.g. a venv, or a test directory).
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

/// Why the kernelspec could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// No destination could be determined.
    #[error("{0}")]
    NoDestination(String),
    /// Writing the files failed.
    #[error("cannot write the kernelspec to {path}: {source}")]
    Write {
        /// The directory being written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Installs the kernelspec and returns its directory.
pub fn install(args: &InstallArgs) -> Result<PathBuf, InstallError> {
    let kernels = kernels_dir(args)?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|source| InstallError::Write {
            path: kernels.clone(),
            source,
        })?;
    write_kernelspec(&kernels, &exe)
}

/// The `kernels` directory the arguments select.
fn kernels_dir(args: &InstallArgs) -> Result<PathBuf, InstallError> {
    let data_dir = if let Some(prefix) = &args.prefix {
        prefix.join("share").join("jupyter")
    } else if args.sys_prefix {
        let prefix = ["VIRTUAL_ENV", "CONDA_PREFIX"]
            .iter()
            .find_map(|v| std::env::var_os(v).filter(|p| !p.is_empty()))
            .ok_or_else(|| {
                InstallError::NoDestination(
                    "--sys-prefix needs an active Python environment ($VIRTUAL_ENV or $CONDA_PREFIX); use --prefix DIR instead".into(),
                )
            })?;
        PathBuf::from(prefix).join("share").join("jupyter")
    } else {
        jupyter_zmq_client::user_data_dir().map_err(|e| {
            InstallError::NoDestination(format!("cannot find Jupyter's user data directory: {e}"))
        })?
    };
    Ok(data_dir.join("kernels"))
}

/// The kernel.json of a kernel run by `exe`.
fn kernel_json(exe: &Path) -> serde_json::Value {
    json!({
        "argv": [exe.to_string_lossy(), "run", "{connection_file}"],
        "display_name": "MLSys Lab",
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

/// Writes the kernelspec into a fresh directory beside its destination, then
/// swaps it in, so a failed install leaves any previous kernelspec intact.
fn write_kernelspec(kernels: &Path, exe: &Path) -> Result<PathBuf, InstallError> {
    let target = kernels.join(KERNEL_NAME);
    let staging = kernels.join(format!(".{KERNEL_NAME}-{}", uuid::Uuid::new_v4()));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InstallError::Write { path, source }
    };
    fs::create_dir_all(&staging).map_err(write_err(&staging))?;
    let spec = serde_json::to_vec_pretty(&kernel_json(exe)).expect("a JSON value serializes");
    let files: [(&str, &[u8]); 3] = [
        ("kernel.json", &spec),
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
    ];
    let written = files.iter().try_for_each(|(name, bytes)| {
        let mut file = fs::File::create(staging.join(name))?;
        file.write_all(bytes)?;
        file.sync_all()
    });
    let swapped = written.and_then(|()| {
        if target.exists() {
            fs::remove_dir_all(&target)?;
        }
        fs::rename(&staging, &target)
    });
    if let Err(source) = swapped {
        let _ = fs::remove_dir_all(&staging);
        return Err(InstallError::Write {
            path: target,
            source,
        });
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_kernel_json_and_logos_and_replaces_an_old_spec() {
        let dir = std::env::temp_dir().join(format!("mlsys-install-{}", uuid::Uuid::new_v4()));
        let args = InstallArgs {
            user: false,
            sys_prefix: false,
            prefix: Some(dir.clone()),
        };
        let kernels = kernels_dir(&args).unwrap();
        assert_eq!(kernels, dir.join("share/jupyter/kernels"));
        let exe = Path::new("/opt/mlsys/bin/mlsys-kernel");
        write_kernelspec(&kernels, exe).unwrap();
        let target = write_kernelspec(&kernels, exe).unwrap();
        let spec: serde_json::Value =
            serde_json::from_slice(&fs::read(target.join("kernel.json")).unwrap()).unwrap();
        assert_eq!(spec["argv"], json!([exe, "run", "{connection_file}"]));
        assert_eq!(spec["display_name"], "MLSys Lab");
        assert_eq!(spec["language"], "rust");
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(fs::read(target.join("logo-64x64.png")).unwrap(), LOGO_64);
        let entries: Vec<_> = fs::read_dir(&kernels).unwrap().collect();
        assert_eq!(entries.len(), 1, "no staging directory is left behind");
        fs::remove_dir_all(dir).unwrap();
    }
}
