"""The frozen executable's script: everything happens in rca_app.__main__.run()."""
from rca_app.__main__ import run

if __name__ == "__main__":
    raise SystemExit(run())
