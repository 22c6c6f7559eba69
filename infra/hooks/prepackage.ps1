# azd prepackage hook (Windows): the same as prepackage.sh, bytecode for the deploy package
# (see compile_bytecode.py for why).
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$python = Join-Path $root '.venv/Scripts/python.exe'
if (-not (Test-Path $python)) { $python = 'python' }
& $python (Join-Path $root 'infra/hooks/compile_bytecode.py') $root
exit $LASTEXITCODE
