public enum Archive {}
