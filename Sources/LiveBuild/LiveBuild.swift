public enum LiveBuild {}
