{
  description = "Development shell: Python 3.11, uv, PostgreSQL 17, protobuf, grpcurl and git";

  # Refresh the pin with `nix flake update` (it rewrites flake.lock).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      devShells = forAllSystems (
        pkgs:
        let
          inherit (pkgs) lib stdenv;
          # The versions the other environments use: python:3.11 images, postgres:17.
          python = pkgs.python311;
          postgresql = pkgs.postgresql_17;
        in
        {
          default = pkgs.mkShell {
            packages = [
              python
              pkgs.uv
              postgresql # server (initdb, pg_ctl: the test harness's no-Docker path) and psql
              pkgs.protobuf
              pkgs.grpcurl
              pkgs.git
            ];

            shellHook = ''
              # uv uses this Python and never downloads one of its own.
              export UV_PYTHON_DOWNLOADS=never
              export UV_PYTHON=${python}/bin/python3.11
              ${lib.optionalString stdenv.hostPlatform.isLinux ''
                # manylinux wheels (grpcio, psycopg-binary, ...) expect the C++ runtime and zlib
                # where a usual Linux has them.
                export LD_LIBRARY_PATH=${
                  lib.makeLibraryPath [
                    stdenv.cc.cc.lib
                    pkgs.zlib
                  ]
                }''${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
              ''}

              # .venv from the lock files, through the project's own `invoke setup`: it reinstalls
              # only when requirements/*.txt or the pyproject files changed (a fingerprint stamp),
              # so entering the shell again touches no network.
              project_root=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
              venv="$project_root/.venv"
              if [ -e "$venv" ] && [ "$("$venv/bin/python" -c 'import sys; print(sys.base_prefix)' 2>/dev/null)" != "${python}" ]; then
                # Made by another Python (the host's, or an older pin): not usable with this one.
                echo "nix develop: recreating .venv for ${python.name}"
                rm -rf "$venv"
              fi
              if [ ! -x "$venv/bin/invoke" ]; then
                # First entry: the locked tools, invoke among them, so the tasks can run.
                uv venv --quiet --python "$UV_PYTHON" "$venv" \
                  && uv pip sync --quiet --python "$venv/bin/python" --require-hashes \
                    "$project_root/requirements/dev.txt"
              fi
              if [ -x "$venv/bin/invoke" ] && (cd "$project_root" && "$venv/bin/invoke" setup); then
                source "$venv/bin/activate"
              else
                echo "nix develop: could not set up $venv; see the output above" >&2
              fi
              unset project_root venv
            '';
          };
        }
      );
    };
}
