"""Small jobs every layer needs: atomic files, preflight checks, the machine's cores, progress bars."""
