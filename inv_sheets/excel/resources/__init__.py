"""Files the Refresh button needs: the VBA project (vbaProject.bin) and how it is built."""
