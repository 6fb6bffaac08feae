"""Azure DevOps Boards connector for linesight."""
