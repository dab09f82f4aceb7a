"""Pure analysis of stored figures: metrics (a registry), bootstrap intervals, the paired diff of
two gradings, the M ablation, judge agreement, and reliability diagrams. No I/O but drawing."""
